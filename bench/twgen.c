/* twgen: sustain a level of client-side TIME_WAIT sockets on loopback, then stop by itself.
 *
 *   twgen LEVEL SECONDS NDST FIRST [READY_FILE]
 *
 * Built and run by bench/loadgen.py (--fast), inside a namespace it made. A TIME_WAIT lasts
 * 60 s (TCP_TIMEWAIT_LEN), so a level of LEVEL needs LEVEL/60 new ones a second: this makes
 * them at that rate, in batches (connect every client, close them, accept and close the server
 * sides: the client closed first, so it is the one left in TIME_WAIT). The cost, ~40-50 us of
 * CPU a connection, is the kernel's (perf: close 40%, connect 39%, socket 9%, accept 6%, the
 * sleeps 3%, syscall entry ~1%): epoll or io_uring batching could save a few percent at most.
 * If it falls more than a second behind (a loaded machine) it drops the debt instead of
 * catching up in a burst, so the level it holds never exceeds LEVEL. Destinations are
 * 127.0.1.FIRST .. 127.0.1.(FIRST+NDST-1) port 8080 (several twgen processes take disjoint
 * ranges) so no (src, dst, dport) tuple runs out of ports. Bounded:
 * at most MAX_TOTAL connections and MAX_SECONDS seconds, loopback only. Once a second it prints
 * "made N rate R/s behind B" to stdout (B: connections it is behind the schedule). Writes
 * READY_FILE once 60 s have passed (the level is reached if it kept up).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_TOTAL 100000000L
#define MAX_SECONDS 1800
#define MAX_DST 250
#define BATCH 512
#define PORT 8080

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: twgen LEVEL SECONDS NDST FIRST [READY_FILE]\n");
        return 2;
    }
    long level = atol(argv[1]);
    double seconds = atof(argv[2]);
    int ndst = atoi(argv[3]);
    int first = atoi(argv[4]);
    const char *ready = argc > 5 ? argv[5] : NULL;
    if (level <= 0 || seconds <= 0 || ndst <= 0 || first < 1 || first + ndst - 1 > MAX_DST)
        return 2;
    if (seconds > MAX_SECONDS) seconds = MAX_SECONDS;
    int lst[MAX_DST];
    struct sockaddr_in dst[MAX_DST];
    for (int i = 0; i < ndst; i++) {
        memset(&dst[i], 0, sizeof dst[i]);
        dst[i].sin_family = AF_INET;
        dst[i].sin_port = htons(PORT);
        dst[i].sin_addr.s_addr = htonl(0x7f000100u + (unsigned)(first + i)); /* 127.0.1.x */
        lst[i] = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(lst[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(lst[i], (struct sockaddr *)&dst[i], sizeof dst[i]) || listen(lst[i], 4096)) {
            perror("listen");
            return 1;
        }
    }
    double rate = level / 60.0, t0 = now(), last_report = t0;
    long made = 0, failed = 0, dropped = 0;
    int next = 0, wrote_ready = 0;
    int cl[BATCH];
    while (1) {
        double t = now();
        if (t - t0 >= seconds || made >= MAX_TOTAL) break;
        if (ready && !wrote_ready && t - t0 >= 60) {
            FILE *f = fopen(ready, "w");
            if (f) {
                fprintf(f, "twgen: %ld made in %.1fs\n", made, t - t0);
                fclose(f);
            }
            wrote_ready = 1;
        }
        if (t - last_report >= 1) {
            long due = (long)((t - t0) * rate) - dropped;
            printf("made %ld rate %.0f/s behind %ld dropped %ld failed %ld\n", made,
                   made / (t - t0), due > made ? due - made : 0, dropped, failed);
            fflush(stdout);
            last_report = t;
        }
        long due = (long)((t - t0) * rate) - dropped - made;
        if (due > rate + BATCH) { /* over a second behind: forget it rather than overshoot later */
            dropped += due - BATCH;
            due = BATCH;
        }
        if (due <= 0) {
            usleep(2000);
            continue;
        }
        int n = due < BATCH ? (int)due : BATCH, k = 0;
        int i = next++ % ndst;
        for (; k < n; k++) {
            cl[k] = socket(AF_INET, SOCK_STREAM, 0);
            if (cl[k] < 0 || connect(cl[k], (struct sockaddr *)&dst[i], sizeof dst[i])) {
                if (cl[k] >= 0) close(cl[k]);
                failed++;
                break;
            }
        }
        for (int j = 0; j < k; j++) close(cl[j]); /* active close: the client's FIN first */
        for (int j = 0; j < k; j++) {
            int s = accept(lst[i], NULL, NULL);
            if (s >= 0) close(s); /* the server's FIN: the client enters TIME_WAIT */
        }
        made += k;
        if (k == 0) usleep(10000);
    }
    for (int i = 0; i < ndst; i++) close(lst[i]);
    printf("done: made %ld in %.1fs, dropped %ld, failed %ld\n", made, now() - t0, dropped,
           failed);
    return 0;
}
