/* FUSE passthrough (Linux 6.9+): file data served by the kernel from the backing file.
 *
 * With passthrough, the server registers a backing file with the kernel
 * (FUSE_DEV_IOC_BACKING_OPEN on /dev/fuse, which returns a backing id) and answers an open
 * with FOPEN_PASSTHROUGH and that id. Reads, writes and mmap of that open file then go
 * straight to the backing file inside the kernel: no request reaches the server, no byte is
 * copied into the FUSE mount's page cache. Sequential reads run at the speed of the
 * backing filesystem instead of one round trip per 128 KiB.
 *
 * libfuse 2.9 (which fuse-native uses) predates the feature, so this file adds it around
 * libfuse, through three functions libfuse calls through its PLT (as fuse-hooks.c does):
 *
 * - fuse_session_process_buf: notes, per libfuse thread, the request being processed
 *   (opcode, node id), and at FUSE_INIT whether the kernel offers FUSE_PASSTHROUGH;
 * - fuse_chan_send: extends libfuse's INIT reply to protocol 7.40's layout, asking for
 *   FUSE_PASSTHROUGH (flags2, through FUSE_INIT_EXT) with a backing stack depth of 2 (so a
 *   store on overlayfs qualifies; nothing stacks on an aufs mount);
 * - fuse_reply_open (fuse-hooks.c calls pt_reply_open): answers an open with passthrough.
 *
 * The kernel's rule (fs/fuse/iomode.c): the opens of one FUSE inode are either all cached
 * (page cache, requests to the server) or all uncached, and the uncached ones that use
 * passthrough all name the same backing file; an open that breaks the rule fails with EIO.
 * So each node id with open files is tracked here: the first open decides (passthrough when
 * the backing file can be registered, else cached) and later opens follow it. In
 * passthrough mode every open must name the node's backing file; one that cannot use it
 * for its data gets FOPEN_DIRECT_IO as well (reads and writes then reach the data path in
 * fuse-hooks.c; only its mmap uses the backing file): a read-only open of a copy made
 * while the original is still open (a copy-up), and a writable open of a file with several
 * names (its writes must reach the server, which drops the other names' cached attributes,
 * see kernel-caches.c). A writable open of such a copy is refused with ETXTBSY: its mmap
 * would write the original, a read-only branch's file. Files created with O_CREAT
 * (FUSE_CREATE) stay cached.
 * The backing id is dropped when the node's last open file is released.
 *
 * STRATA_AUFS_PASSTHROUGH=0 in the helper's environment turns it off (for comparisons).
 */
#include "aufs-native.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse_kernel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>

#define PT_INIT_EXT (1u << 30)           /* FUSE_INIT_EXT: flags2 is valid */
#define PT_FLAGS2_PASSTHROUGH (1u << 5)  /* FUSE_PASSTHROUGH, bit 37 of the 64-bit flags */
#define PT_FOPEN_DIRECT_IO (1u << 0)
#define PT_FOPEN_PASSTHROUGH (1u << 7)
#define PT_MAX_STACK_DEPTH 2

struct pt_backing_map {
  int32_t fd;
  uint32_t flags;
  uint64_t padding;
};
#define PT_IOC_BACKING_OPEN _IOW(229, 1, struct pt_backing_map)
#define PT_IOC_BACKING_CLOSE _IOW(229, 2, uint32_t)

/* fuse_init_out as of protocol 7.40 (libfuse 2.9 knows the first 24 bytes). */
struct pt_init_out {
  uint32_t major;
  uint32_t minor;
  uint32_t max_readahead;
  uint32_t flags;
  uint16_t max_background;
  uint16_t congestion_threshold;
  uint32_t max_write;
  uint32_t time_gran;
  uint16_t max_pages;
  uint16_t map_alignment;
  uint32_t flags2;
  uint32_t max_stack_depth;
  uint32_t unused[6];
};

/* fuse_open_out as of protocol 7.40: the old padding is the backing id. */
struct pt_open_out {
  uint64_t fh;
  uint32_t open_flags;
  int32_t backing_id;
};

/* Whether the kernel offered passthrough at INIT, and whether opens use it (cleared for
 * good when the kernel refuses a backing file for a reason that would not change). */
static int pt_offered = 0;
int pt_enabled = 0;

/* The request this libfuse thread is processing. */
__thread uint32_t cur_opcode = 0;
static __thread uint64_t cur_nodeid = 0;

enum pt_mode { PT_CACHED = 1, PT_PASSTHROUGH = 2 };

struct pt_node {
  uint64_t nodeid;
  int mode;
  dev_t dev; /* the backing file of passthrough opens */
  ino_t ino;
  int32_t backing_id;
  int opens;
  struct pt_node *next;
};

struct pt_fd {
  int fd; /* a FUSE file handle counted in its node's opens */
  uint64_t nodeid;
  struct pt_fd *next;
};

#define PT_BUCKETS 4096
static pthread_mutex_t pt_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pt_released_cv = PTHREAD_COND_INITIALIZER;
#define RELEASE_WAIT_NS 250000000L
static struct pt_node *nodes[PT_BUCKETS];
static struct pt_fd *fds[PT_BUCKETS];

static size_t pt_bucket(uint64_t k) { return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 52); }

static struct pt_node **node_slot(uint64_t nodeid) {
  struct pt_node **at = &nodes[pt_bucket(nodeid)];
  while (*at && (*at)->nodeid != nodeid) at = &(*at)->next;
  return at;
}

/* --- the request being processed, and INIT ------------------------------------------------ */

typedef void (*process_buf_fn)(struct fuse_session *, const struct fuse_buf *, struct fuse_chan *);

AUFS_EXPORT void fuse_session_process_buf(struct fuse_session *se, const struct fuse_buf *buf,
                                          struct fuse_chan *ch) {
  static process_buf_fn real = NULL;
  if (!real) real = (process_buf_fn)dlvsym(RTLD_NEXT, "fuse_session_process_buf", "FUSE_2.9");
  const struct fuse_in_header *in = NULL;
  if (!(buf->flags & FUSE_BUF_IS_FD) && buf->size >= sizeof *in) in = buf->mem;
  cur_opcode = in ? in->opcode : 0;
  cur_nodeid = in ? in->nodeid : 0;
  if (in && in->opcode == FUSE_INIT && buf->size >= sizeof *in + 20) {
    /* fuse_init_in: major, minor, max_readahead, flags, flags2 (7.36+) */
    const uint32_t *init = (const uint32_t *)((const char *)buf->mem + sizeof *in);
    pt_offered = (init[3] & PT_INIT_EXT) && (init[4] & PT_FLAGS2_PASSTHROUGH);
  }
  real(se, buf, ch);
  cur_opcode = 0;
  cur_nodeid = 0;
}

typedef int (*chan_send_fn)(struct fuse_chan *, const struct iovec[], size_t);

AUFS_EXPORT int fuse_chan_send(struct fuse_chan *ch, const struct iovec iov[], size_t count) {
  static chan_send_fn real = NULL;
  if (!real) real = (chan_send_fn)dlvsym(RTLD_NEXT, "fuse_chan_send", "FUSE_2.4");
  const char *env = getenv("STRATA_AUFS_PASSTHROUGH");
  if (cur_opcode != FUSE_INIT || !pt_offered || !data_path || (env && strcmp(env, "0") == 0) ||
      count != 2 ||
      iov[0].iov_len != sizeof(struct fuse_out_header) || iov[1].iov_len < 24 ||
      iov[1].iov_len > sizeof(struct pt_init_out)) {
    return real(ch, iov, count);
  }
  struct fuse_out_header out;
  memcpy(&out, iov[0].iov_base, sizeof out);
  if (out.error != 0) return real(ch, iov, count);
  struct pt_init_out arg;
  memset(&arg, 0, sizeof arg);
  memcpy(&arg, iov[1].iov_base, iov[1].iov_len);
  arg.flags |= PT_INIT_EXT;
  arg.flags2 |= PT_FLAGS2_PASSTHROUGH;
  arg.max_stack_depth = PT_MAX_STACK_DEPTH;
  out.len = sizeof out + sizeof arg;
  struct iovec v[2] = {{&out, sizeof out}, {&arg, sizeof arg}};
  int r = real(ch, v, 2);
  if (r == 0) pt_enabled = 1;
  return r;
}

/* --- opens and releases ------------------------------------------------------------------- */

static void fd_add(int fd, uint64_t nodeid) {
  struct pt_fd *f = malloc(sizeof *f);
  if (!f) return;
  f->fd = fd;
  f->nodeid = nodeid;
  size_t b = pt_bucket((uint64_t)fd);
  f->next = fds[b];
  fds[b] = f;
}

/* A node with its first open file, in `mode`; NULL when out of memory. */
static struct pt_node *node_new(uint64_t nodeid, int mode) {
  struct pt_node *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  n->nodeid = nodeid;
  n->mode = mode;
  struct pt_node **at = &nodes[pt_bucket(nodeid)];
  n->next = *at;
  *at = n;
  return n;
}

/* Register `fd` as a backing file: its id, or 0 (and passthrough off for good when the
 * kernel refuses it for a reason other than this file). */
static int32_t backing_open(int fd) {
  if (!channel) return 0;
  struct pt_backing_map map = {.fd = fd, .flags = 0, .padding = 0};
  int id = ioctl(fuse_chan_fd(channel), PT_IOC_BACKING_OPEN, &map);
  if (id > 0) {
    static int said = 0;
    if (!said) fprintf(stderr, "aufs: FUSE passthrough on: open files' data served by the kernel\n");
    said = 1;
    return id;
  }
  if (errno == EPERM || errno == ENOTTY || errno == EOPNOTSUPP || errno == ENOSYS) {
    fprintf(stderr, "aufs: FUSE passthrough refused (%s): file data goes through the server\n",
            strerror(errno));
    pt_enabled = 0;
  }
  return 0;
}

int pt_reply_open(fuse_req_t req, const struct fuse_file_info *f,
                  int (*real)(fuse_req_t, const struct fuse_file_info *)) {
  uint64_t nodeid = cur_nodeid;
  int fd = (int)f->fh;
  struct stat st;
  if (!pt_enabled || cur_opcode != FUSE_OPEN || nodeid == 0 || fd <= 0 || f->direct_io ||
      fstat(fd, &st) < 0) {
    return real(req, f);
  }
  int writable = (f->flags & O_ACCMODE) != O_RDONLY;
  /* A write through passthrough never reaches the server, which then could not drop the
   * cached attributes of the file's other names. */
  int eligible = S_ISREG(st.st_mode) && !(writable && st.st_nlink > 1);
  int32_t id = 0;
  uint32_t flags = PT_FOPEN_PASSTHROUGH;
  int refuse = 0;
  pthread_mutex_lock(&pt_mu);
  struct pt_node *n = *node_slot(nodeid);
  if (n && n->mode == PT_PASSTHROUGH && (n->dev != st.st_dev || n->ino != st.st_ino)) {
    /* The kernel leaves passthrough mode at close but tells us with a FUSE_RELEASE that
     * may still be queued: give the node's releases a moment before deciding. */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += RELEASE_WAIT_NS;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    while ((n = *node_slot(nodeid)) != NULL &&
           pthread_cond_timedwait(&pt_released_cv, &pt_mu, &until) == 0) {
    }
  }
  if (!n) {
    id = eligible ? backing_open(fd) : 0;
    n = node_new(nodeid, id > 0 ? PT_PASSTHROUGH : PT_CACHED);
    if (!n && id > 0) {
      ioctl(fuse_chan_fd(channel), PT_IOC_BACKING_CLOSE, &(uint32_t){(uint32_t)id});
      id = 0;
    } else if (n && id > 0) {
      n->dev = st.st_dev;
      n->ino = st.st_ino;
      n->backing_id = id;
    }
  } else if (n->mode == PT_PASSTHROUGH) {
    /* Every open of the inode must now name this backing file. */
    int same = n->dev == st.st_dev && n->ino == st.st_ino;
    id = n->backing_id;
    if (!same || !eligible) flags |= PT_FOPEN_DIRECT_IO; /* data through the server */
    /* A writable open of a copy made while the original is open: its mmap would reach
     * the original, a lower branch's file. Refused, as writing a running program is. */
    if (!same && writable) refuse = 1;
  }
  if (n && !refuse) {
    n->opens++;
    fd_add(fd, nodeid);
  }
  pthread_mutex_unlock(&pt_mu);
  if (refuse) {
    fuse_reply_err(req, ETXTBSY);
    return -ENOENT; /* libfuse then releases the file, as for an interrupted open */
  }
  if (id > 0) {
    struct pt_open_out arg = {.fh = f->fh, .open_flags = flags, .backing_id = id};
    return fuse_reply_buf(req, (const char *)&arg, sizeof arg);
  }
  return real(req, f);
}

void pt_created(uint64_t nodeid, const struct fuse_file_info *f) {
  if (!pt_enabled || nodeid == 0 || !f || f->fh == 0) return;
  pthread_mutex_lock(&pt_mu);
  struct pt_node *n = *node_slot(nodeid);
  if (!n) n = node_new(nodeid, PT_CACHED);
  if (n) {
    n->opens++;
    fd_add((int)f->fh, nodeid);
  }
  pthread_mutex_unlock(&pt_mu);
}

void pt_released(int fd) {
  if (fd <= 0) return;
  int32_t drop = 0;
  pthread_mutex_lock(&pt_mu);
  struct pt_fd **at = &fds[pt_bucket((uint64_t)fd)];
  while (*at && (*at)->fd != fd) at = &(*at)->next;
  if (*at) {
    struct pt_fd *gone = *at;
    *at = gone->next;
    struct pt_node **slot = node_slot(gone->nodeid);
    struct pt_node *n = *slot;
    if (n && --n->opens <= 0) {
      if (n->mode == PT_PASSTHROUGH) drop = n->backing_id;
      *slot = n->next;
      free(n);
    }
    free(gone);
    pthread_cond_broadcast(&pt_released_cv);
  }
  pthread_mutex_unlock(&pt_mu);
  if (drop > 0 && channel) {
    ioctl(fuse_chan_fd(channel), PT_IOC_BACKING_CLOSE, &(uint32_t){(uint32_t)drop});
  }
}
