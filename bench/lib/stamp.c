/*
 * The benchmarks' step command: records wall-clock (CLOCK_REALTIME, ns) at start and just before
 * exit, optionally sleeping in between. The same binary runs under gpu-dag, make, snakemake and
 * the plain shell loop, so its own cost is part of the floor.
 *
 *   stamp <file> [sleep_ms]     writes "<start_ns> <end_ns>\n" to <file>
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
  long long start = now_ns();
  if (argc < 2) return 2;
  long ms = argc > 2 ? atol(argv[2]) : 0;
  if (ms > 0) {
    struct timespec s = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&s, &s) != 0) {}
  }
  char buf[64];
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return 3;
  long long end = now_ns();
  int n = snprintf(buf, sizeof buf, "%lld %lld\n", start, end);
  if (write(fd, buf, n) != n) return 4;
  close(fd);
  return 0;
}
