/* sstrip.c FILE: cut what no loader reads from a stripped static ELF64
 * little-endian executable (x86-64, aarch64): the section headers, the
 * section name table and .comment, which all lie after the last loaded
 * byte. The program headers, all the kernel uses to load and run it, are
 * kept, so the program runs exactly as before; tools that want sections
 * (objdump -d, size) no longer find any. Other files are left alone.
 * Built and run on the build machine by the Makefile. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PT_LOAD 1

static uint64_t le(const unsigned char *p, int bytes)
{
	uint64_t v = 0;

	while (bytes--)
		v = v << 8 | p[bytes];
	return v;
}

static void put_le(unsigned char *p, int bytes, uint64_t v)
{
	for (int i = 0; i < bytes; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

/* The end of the last loaded byte: max(p_offset + p_filesz) of PT_LOAD;
 * 0 when the headers do not make sense. */
static uint64_t loaded_end(const unsigned char *file, uint64_t size)
{
	uint64_t phoff = le(file + 0x20, 8), end = 0;
	unsigned entsize = (unsigned)le(file + 0x36, 2);
	unsigned count = (unsigned)le(file + 0x38, 2);

	if (entsize < 0x38 || phoff > size ||
	    (uint64_t)entsize * count > size - phoff)
		return 0;
	for (unsigned i = 0; i < count; i++) {
		const unsigned char *ph = file + phoff + (uint64_t)i * entsize;
		uint64_t last = le(ph + 8, 8) + le(ph + 0x20, 8);

		if (le(ph, 4) == PT_LOAD && last > end)
			end = last;
	}
	/* the ELF and program headers must stay too */
	if (end < phoff + (uint64_t)entsize * count)
		end = phoff + (uint64_t)entsize * count;
	return end <= size ? end : 0;
}

int main(int argc, char **argv)
{
	static unsigned char file[64 << 20];
	struct stat st;
	uint64_t end;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: sstrip FILE\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < 64 ||
	    (uint64_t)st.st_size > sizeof(file) ||
	    read(fd, file, (size_t)st.st_size) != st.st_size) {
		perror(argv[1]);
		return 1;
	}
	if (memcmp(file, "\177ELF\2\1", 6) != 0 || le(file + 0x10, 2) != 2) {
		fprintf(stderr, "sstrip: %s: not an ELF64 LE executable, left "
			"alone\n", argv[1]);
		return 0;
	}
	end = loaded_end(file, (uint64_t)st.st_size);
	if (!end || le(file + 0x28, 8) < end) {
		fprintf(stderr, "sstrip: %s: sections before the end of the "
			"loaded data, left alone\n", argv[1]);
		return 0;
	}
	put_le(file + 0x28, 8, 0);	/* e_shoff */
	put_le(file + 0x3c, 2, 0);	/* e_shnum */
	put_le(file + 0x3e, 2, 0);	/* e_shstrndx */
	if (pwrite(fd, file, 64, 0) != 64 || ftruncate(fd, (off_t)end) < 0 ||
	    close(fd) < 0) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
