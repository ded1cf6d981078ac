/*
 * aufs_native: the few things the aufs FUSE server needs that neither Node nor fuse-native
 * give it.
 *
 * 1. The identity of the process behind a FUSE request. fuse-native runs libfuse's loop on
 *    its own threads and hands each request to JavaScript on the main thread, where
 *    fuse_get_context() describes no request at all. This library defines fuse_new()
 *    itself; loaded with RTLD_GLOBAL before fuse-native mounts, it comes before libfuse in
 *    the global lookup scope, so fuse-native's call to fuse_new@FUSE_2.6 lands here. We wrap
 *    the operations that create entries (create, mkdir, mknod, symlink) and utimens: the
 *    wrapper runs on libfuse's thread, copies fuse_get_context() (and utimens' exact
 *    timespecs, which fuse-native rounds to milliseconds and passes atime for mtime) into
 *    one slot under a mutex, calls fuse-native's handler (which blocks until JavaScript has
 *    answered) and releases the slot. The JavaScript handler reads the slot synchronously
 *    with requestContext(); the mutex makes the slot belong to exactly one request.
 * 2. The data path: read, write, flush, release, fsync and ftruncate of open files run here, on libfuse's threads, against the backing file descriptor that the
 *    JavaScript open/create handlers return as the FUSE file handle. Bytes never cross into
 *    JavaScript, and reads of several files proceed in parallel.
 * 3. Hardlink aliases and passthrough directories: see their sections below.
 * 4. Calls Node lacks: mknod(2), l*xattr(2) with errno, utimensat(2) with nanoseconds,
 *    umount2(2).
 *
 * It also sets flag_nullpath_ok (the data path needs no path) and flag_utime_omit_ok.
 */
#define FUSE_USE_VERSION 29
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <node_api.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <fuse_kernel.h>
#include <fuse_lowlevel.h>

typedef struct fuse *(*fuse_new_fn)(struct fuse_chan *, struct fuse_args *,
                                    const struct fuse_operations *, size_t, void *);

static struct fuse_operations orig_ops;
static struct fuse_operations wrapped_ops;
static int interposed = 0;
static int data_path = 1;

/* The request slot: valid while `active` is 1, owned by whoever holds slot_mu. */
static pthread_mutex_t slot_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
  int active;
  uid_t uid;
  gid_t gid;
  pid_t pid;
  mode_t umask;
  int flags;
  int has_times;
  struct timespec times[2];
} slot;

static void slot_begin(void) {
  pthread_mutex_lock(&slot_mu);
  struct fuse_context *c = fuse_get_context();
  slot.uid = c ? c->uid : 0;
  slot.gid = c ? c->gid : 0;
  slot.pid = c ? c->pid : 0;
  slot.umask = c ? c->umask : 0;
  slot.flags = 0;
  slot.has_times = 0;
  slot.active = 1;
}

static void slot_end(void) {
  slot.active = 0;
  pthread_mutex_unlock(&slot_mu);
}

static int w_create(const char *p, mode_t mode, struct fuse_file_info *fi) {
  slot_begin();
  slot.flags = fi ? fi->flags : 0;
  int r = orig_ops.create(p, mode, fi);
  slot_end();
  return r;
}

static int w_mkdir(const char *p, mode_t mode) {
  slot_begin();
  int r = orig_ops.mkdir(p, mode);
  slot_end();
  return r;
}

static int w_mknod(const char *p, mode_t mode, dev_t dev) {
  slot_begin();
  int r = orig_ops.mknod(p, mode, dev);
  slot_end();
  return r;
}

static int w_symlink(const char *target, const char *p) {
  slot_begin();
  int r = orig_ops.symlink(target, p);
  slot_end();
  return r;
}

static int w_utimens(const char *p, const struct timespec tv[2]) {
  slot_begin();
  slot.has_times = 1;
  slot.times[0] = tv[0];
  slot.times[1] = tv[1];
  int r = orig_ops.utimens(p, tv);
  slot_end();
  return r;
}

/* --- hardlink aliases ------------------------------------------------------------------------
 * The high-level libfuse API gives every path its own node, so the kernel holds one inode per
 * name of a hardlinked file and caches attributes for each. After a change through one name,
 * the other names' cached attributes are dropped with FUSE_NOTIFY_INVAL_INODE: the node ids
 * of every non-directory entry libfuse hands the kernel are recorded here (by interposing
 * fuse_reply_entry and fuse_reply_create, which libfuse calls through its PLT), keyed by the
 * inode number the union shows. That makes long attribute timeouts safe.
 */

#define ALIAS_BUCKETS 8192
#define ALIAS_MAX 2000000

struct alias {
  uint64_t ino;
  uint64_t nodeid;
  struct alias *next;
};

static pthread_mutex_t alias_mu = PTHREAD_MUTEX_INITIALIZER;
static struct alias *aliases[ALIAS_BUCKETS];
static size_t alias_count = 0;
static struct fuse_chan *channel = NULL;

/* Inode numbers shown for copied-up files (backing -> shown), mirrored from JavaScript. */
struct shown {
  uint64_t backing;
  uint64_t shown;
  struct shown *next;
};
static struct shown *shown_map[ALIAS_BUCKETS];

static size_t bucket(uint64_t ino) { return (size_t)((ino * 0x9E3779B97F4A7C15ull) >> 51); }

static void alias_clear(void) {
  for (size_t i = 0; i < ALIAS_BUCKETS; i++) {
    struct alias *a = aliases[i];
    while (a) {
      struct alias *next = a->next;
      free(a);
      a = next;
    }
    aliases[i] = NULL;
  }
  alias_count = 0;
}

static void alias_record(const struct fuse_entry_param *e) {
  if (!e || e->ino == 0 || S_ISDIR(e->attr.st_mode)) return;
  uint64_t ino = (uint64_t)e->attr.st_ino;
  pthread_mutex_lock(&alias_mu);
  size_t b = bucket(ino);
  for (struct alias *a = aliases[b]; a; a = a->next) {
    if (a->ino == ino && a->nodeid == e->ino) {
      pthread_mutex_unlock(&alias_mu);
      return;
    }
  }
  if (alias_count >= ALIAS_MAX) alias_clear();
  struct alias *a = malloc(sizeof *a);
  if (a) {
    a->ino = ino;
    a->nodeid = e->ino;
    a->next = aliases[b];
    aliases[b] = a;
    alias_count++;
  }
  pthread_mutex_unlock(&alias_mu);
}

/* Drop the cached attributes of every kernel inode showing `ino`. */
static int alias_invalidate(uint64_t ino) {
  if (!channel) return 0;
  uint64_t ids[64];
  size_t n = 0;
  pthread_mutex_lock(&alias_mu);
  for (struct alias *a = aliases[bucket(ino)]; a && n < 64; a = a->next) {
    if (a->ino == ino) ids[n++] = a->nodeid;
  }
  pthread_mutex_unlock(&alias_mu);
  for (size_t i = 0; i < n; i++) fuse_lowlevel_notify_inval_inode(channel, ids[i], -1, 0);
  return (int)n;
}

static uint64_t shown_ino(uint64_t backing) {
  uint64_t out = backing;
  pthread_mutex_lock(&alias_mu);
  for (struct shown *s = shown_map[bucket(backing)]; s; s = s->next) {
    if (s->backing == backing) {
      out = s->shown;
      break;
    }
  }
  pthread_mutex_unlock(&alias_mu);
  return out;
}

typedef int (*reply_entry_fn)(fuse_req_t, const struct fuse_entry_param *);
typedef int (*reply_create_fn)(fuse_req_t, const struct fuse_entry_param *,
                               const struct fuse_file_info *);

int fuse_reply_entry(fuse_req_t req, const struct fuse_entry_param *e) {
  static reply_entry_fn real = NULL;
  if (!real) real = (reply_entry_fn)dlvsym(RTLD_NEXT, "fuse_reply_entry", "FUSE_2.4");
  alias_record(e);
  return real(req, e);
}

int fuse_reply_create(fuse_req_t req, const struct fuse_entry_param *e,
                      const struct fuse_file_info *f) {
  static reply_create_fn real = NULL;
  if (!real) real = (reply_create_fn)dlvsym(RTLD_NEXT, "fuse_reply_create", "FUSE_2.5");
  alias_record(e);
  return real(req, e, f);
}

/* After a change through an open file: its other names' attributes are stale. */
static void changed_through(int fd) {
  struct stat st;
  if (fstat(fd, &st) == 0 && st.st_nlink > 1) alias_invalidate(shown_ino((uint64_t)st.st_ino));
}

/* --- passthrough directories ----------------------------------------------------------------
 * A directory that only one read-only branch holds (no writable branch, no other branch
 * merges into it) resolves its children by plain lookup in that branch's directory: no
 * whiteout can apply and nothing changes while it stays so. The union (JavaScript) decides
 * which directories those are and registers them here with the branch directory; getattr
 * of their children and readdir of them are then answered on libfuse's thread, without a
 * round trip to JavaScript. The union drops a registration before anything could make the
 * directory resolve otherwise (a copy-up into the writable branch, a rename or removal).
 */

struct pdir {
  char *path;   /* union path, "/a/b" */
  char *branch; /* the branch's directory */
  struct pdir *next;
};

static pthread_rwlock_t pdir_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct pdir *pdirs[ALIAS_BUCKETS];

static size_t str_bucket(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return (size_t)(h % ALIAS_BUCKETS);
}

/* Copy the branch directory of union directory `dir` (length n) into out; 0 when none. */
static int pdir_find(const char *dir, size_t n, char *out, size_t outsz) {
  int found = 0;
  pthread_rwlock_rdlock(&pdir_lock);
  for (struct pdir *d = pdirs[str_bucket(dir, n)]; d; d = d->next) {
    if (strlen(d->path) == n && memcmp(d->path, dir, n) == 0) {
      size_t bl = strlen(d->branch);
      if (bl < outsz) {
        memcpy(out, d->branch, bl + 1);
        found = 1;
      }
      break;
    }
  }
  pthread_rwlock_unlock(&pdir_lock);
  return found;
}

static void pdir_free(struct pdir *d) {
  free(d->path);
  free(d->branch);
  free(d);
}

/* Drop `path` (and, with `tree`, everything below it; "/" with tree drops all). */
static void pdir_forget(const char *path, int tree) {
  size_t n = strlen(path);
  pthread_rwlock_wrlock(&pdir_lock);
  for (size_t b = 0; b < ALIAS_BUCKETS; b++) {
    if (!tree && b != str_bucket(path, n)) continue;
    struct pdir **at = &pdirs[b];
    while (*at) {
      const char *q = (*at)->path;
      int hit = strcmp(q, path) == 0 ||
                (tree && (n == 1 || (strncmp(q, path, n) == 0 && q[n] == '/')));
      if (hit) {
        struct pdir *gone = *at;
        *at = gone->next;
        pdir_free(gone);
      } else {
        at = &(*at)->next;
      }
    }
  }
  pthread_rwlock_unlock(&pdir_lock);
}

static int pdir_path(const char *p, char *out, size_t outsz, const char **name) {
  const char *slash = strrchr(p, '/');
  if (!slash) return 0;
  size_t n = slash == p ? 1 : (size_t)(slash - p);
  char branch[PATH_MAX];
  if (!pdir_find(p, n, branch, sizeof branch)) return 0;
  *name = slash + 1;
  return snprintf(out, outsz, "%s/%s", branch, slash + 1) < (int)outsz;
}

/* --- data path on libfuse's threads ------------------------------------------------------ */

static int w_read(const char *p, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)p;
  size_t done = 0;
  while (done < size) {
    ssize_t n = pread((int)fi->fh, buf + done, size - done, off + (off_t)done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return done > 0 ? (int)done : -errno;
    }
    if (n == 0) break;
    done += (size_t)n;
  }
  return (int)done;
}

/* Reads as a buffer naming the backing descriptor: libfuse then splices the bytes from the
 * file into /dev/fuse when the kernel allows (splice_write), or reads them itself. */
static int w_read_buf(const char *p, struct fuse_bufvec **bufp, size_t size, off_t off,
                      struct fuse_file_info *fi) {
  (void)p;
  struct fuse_bufvec *src = malloc(sizeof *src);
  if (!src) return -ENOMEM;
  *src = (struct fuse_bufvec)FUSE_BUFVEC_INIT(size);
  src->buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
  src->buf[0].fd = (int)fi->fh;
  src->buf[0].pos = off;
  *bufp = src;
  return 0;
}

static int w_write(const char *p, const char *buf, size_t size, off_t off,
                   struct fuse_file_info *fi) {
  (void)p;
  size_t done = 0;
  while (done < size) {
    ssize_t n = pwrite((int)fi->fh, buf + done, size - done, off + (off_t)done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return done > 0 ? (int)done : -errno;
    }
    done += (size_t)n;
  }
  changed_through((int)fi->fh);
  return (int)done;
}

static int w_flush(const char *p, struct fuse_file_info *fi) {
  (void)p;
  (void)fi;
  return 0; /* nothing is buffered here; the backing fd is closed at release */
}

static int w_release(const char *p, struct fuse_file_info *fi) {
  (void)p;
  if (fi && fi->fh > 0) close((int)fi->fh);
  return 0;
}

static int w_fsync(const char *p, int datasync, struct fuse_file_info *fi) {
  (void)p;
  if (!fi || fi->fh == 0) return 0;
  int r = datasync ? fdatasync((int)fi->fh) : fsync((int)fi->fh);
  return r < 0 ? -errno : 0;
}

static int w_ftruncate(const char *p, off_t size, struct fuse_file_info *fi) {
  if (fi && fi->fh > 0) {
    if (ftruncate((int)fi->fh, size) < 0) return -errno;
    changed_through((int)fi->fh);
    return 0;
  }
  return p ? orig_ops.truncate(p, size) : -EBADF;
}

/* By path when there is one: the union shows copied-up files with their origin's inode
 * number, which only the JavaScript side knows. */
static int w_getattr(const char *p, struct stat *st);
static void ms_times(struct stat *st);

static int w_fgetattr(const char *p, struct stat *st, struct fuse_file_info *fi) {
  if (p && *p) return w_getattr(p, st);
  if (fi && fi->fh > 0) {
    if (fstat((int)fi->fh, st) < 0) return -errno;
    st->st_ino = (ino_t)shown_ino((uint64_t)st->st_ino);
    ms_times(st);
    return 0;
  }
  return -ENOENT;
}

/* Times as fuse-native passes them (milliseconds), so that an entry looks the same whether
 * JavaScript or this file answered for it. */
static void ms_times(struct stat *st) {
  st->st_atim.tv_nsec -= st->st_atim.tv_nsec % 1000000;
  st->st_mtim.tv_nsec -= st->st_mtim.tv_nsec % 1000000;
  st->st_ctim.tv_nsec -= st->st_ctim.tv_nsec % 1000000;
}

static int w_getattr(const char *p, struct stat *st) {
  char full[PATH_MAX];
  const char *name;
  if (p && strcmp(p, "/") != 0 && pdir_path(p, full, sizeof full, &name)) {
    if (strncmp(name, ".wh.", 4) == 0) return -ENOENT;
    if (lstat(full, st) < 0) return -errno;
    ms_times(st);
    return 0;
  }
  return orig_ops.getattr(p, st);
}

/* Directory opens: the kernel may cache the listing (FOPEN_CACHE_DIR, which libfuse 2.9
 * cannot ask for). Safe because every change to a directory of the union goes through the
 * kernel, which drops the cached listing when it does. opendir marks the thread;
 * fuse_reply_open, which libfuse calls next on the same thread, adds the flags. */
#ifndef FOPEN_CACHE_DIR
#define FOPEN_CACHE_DIR (1 << 3)
#endif
static __thread int opening_dir = 0;

static int w_opendir(const char *p, struct fuse_file_info *fi) {
  opening_dir = 1;
  return orig_ops.opendir ? orig_ops.opendir(p, fi) : 0;
}

typedef int (*reply_open_fn)(fuse_req_t, const struct fuse_file_info *);

int fuse_reply_open(fuse_req_t req, const struct fuse_file_info *f) {
  static reply_open_fn real = NULL;
  if (!real) real = (reply_open_fn)dlvsym(RTLD_NEXT, "fuse_reply_open", "FUSE_2.5");
  if (!opening_dir) return real(req, f);
  opening_dir = 0;
  struct fuse_open_out arg;
  memset(&arg, 0, sizeof arg);
  arg.fh = f->fh;
  if (f->direct_io) arg.open_flags |= FOPEN_DIRECT_IO;
  if (f->nonseekable) arg.open_flags |= FOPEN_NONSEEKABLE;
  arg.open_flags |= FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR;
  return fuse_reply_buf(req, (const char *)&arg, sizeof arg);
}

static int w_readdir(const char *p, void *buf, fuse_fill_dir_t fill, off_t off,
                     struct fuse_file_info *fi) {
  if (!p) return -ENOENT; /* removed while open */
  char branch[PATH_MAX];
  if (!pdir_find(p, strlen(p), branch, sizeof branch)) return orig_ops.readdir(p, buf, fill, off, fi);
  DIR *d = opendir(branch);
  if (!d) return -errno;
  fill(buf, ".", NULL, 0);
  fill(buf, "..", NULL, 0);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    if (strncmp(de->d_name, ".wh.", 4) == 0) continue;
    if (fill(buf, de->d_name, NULL, 0)) break;
  }
  closedir(d);
  return 0;
}

struct fuse *fuse_new(struct fuse_chan *ch, struct fuse_args *args,
                      const struct fuse_operations *op, size_t op_size, void *user_data) {
  fuse_new_fn real = (fuse_new_fn)dlvsym(RTLD_NEXT, "fuse_new", "FUSE_2.6");
  if (!real) real = (fuse_new_fn)dlsym(RTLD_NEXT, "fuse_new");
  if (!real) return NULL;
  channel = ch;
  memset(&orig_ops, 0, sizeof orig_ops);
  memcpy(&orig_ops, op, op_size < sizeof orig_ops ? op_size : sizeof orig_ops);
  wrapped_ops = orig_ops;
  if (orig_ops.create) wrapped_ops.create = w_create;
  if (orig_ops.mkdir) wrapped_ops.mkdir = w_mkdir;
  if (orig_ops.mknod) wrapped_ops.mknod = w_mknod;
  if (orig_ops.symlink) wrapped_ops.symlink = w_symlink;
  if (orig_ops.utimens) {
    wrapped_ops.utimens = w_utimens;
    /* utimensRequest applies UTIME_OMIT and UTIME_NOW exactly: let libfuse pass
     * atime-only and mtime-only changes (it drops them otherwise). */
    wrapped_ops.flag_utime_omit_ok = 1;
  }
  if (data_path) {
    wrapped_ops.read = w_read;
    wrapped_ops.read_buf = w_read_buf;
    wrapped_ops.write = w_write;
    wrapped_ops.flush = w_flush;
    wrapped_ops.release = w_release;
    wrapped_ops.fsync = w_fsync;
    wrapped_ops.ftruncate = w_ftruncate;
    wrapped_ops.fgetattr = w_fgetattr;
    if (orig_ops.readdir) wrapped_ops.readdir = w_readdir;
    if (orig_ops.getattr) wrapped_ops.getattr = w_getattr;
    wrapped_ops.opendir = w_opendir;
    wrapped_ops.flag_nullpath_ok = 1;
  }
  interposed = 1;
  return real(ch, args, &wrapped_ops, sizeof wrapped_ops, user_data);
}

/* --- JavaScript side ---------------------------------------------------------------------- */

#define CHECK(call)                                                                            \
  do {                                                                                         \
    if ((call) != napi_ok) {                                                                   \
      napi_throw_error(env, NULL, "aufs_native: N-API call failed: " #call);                   \
      return NULL;                                                                             \
    }                                                                                          \
  } while (0)

static napi_value int_value(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

/* Read argument i as a UTF-8 string into a malloc'd buffer (caller frees). */
static char *arg_string(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "aufs_native: expected a string");
    return NULL;
  }
  char *s = malloc(len + 1);
  if (!s) return NULL;
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

/* requestContext(out: Int32Array(6)): [active, uid, gid, pid, umask, flags]. */
static napi_value RequestContext(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_typedarray_type type;
  size_t length;
  void *data;
  CHECK(napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL));
  if (type != napi_int32_array || length < 6) {
    napi_throw_type_error(env, NULL, "aufs_native: requestContext needs an Int32Array(6)");
    return NULL;
  }
  int32_t *out = data;
  out[0] = slot.active;
  out[1] = (int32_t)slot.uid;
  out[2] = (int32_t)slot.gid;
  out[3] = (int32_t)slot.pid;
  out[4] = (int32_t)slot.umask;
  out[5] = slot.flags;
  return NULL;
}

/* utimensRequest(path): utimensat(path, the current utimens request's times, NOFOLLOW). */
static napi_value UtimensRequest(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!slot.active || !slot.has_times) return int_value(env, -EINVAL);
  char *p = arg_string(env, argv[0]);
  if (!p) return NULL;
  int r = utimensat(AT_FDCWD, p, slot.times, AT_SYMLINK_NOFOLLOW);
  int e = errno;
  free(p);
  return int_value(env, r < 0 ? -e : 0);
}

/* utimens(path, atimeSec, atimeNsec, mtimeSec, mtimeNsec): lutimes with nanoseconds. */
static napi_value Utimens(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t v[4];
  for (int i = 0; i < 4; i++) CHECK(napi_get_value_int64(env, argv[i + 1], &v[i]));
  struct timespec ts[2] = {{v[0], v[1]}, {v[2], v[3]}};
  char *p = arg_string(env, argv[0]);
  if (!p) return NULL;
  int r = utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
  int e = errno;
  free(p);
  return int_value(env, r < 0 ? -e : 0);
}

/* mknod(path, mode, dev): 0 or -errno. `dev` is a Linux dev_t below 2^53. */
static napi_value Mknod(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t mode;
  int64_t dev;
  CHECK(napi_get_value_uint32(env, argv[1], &mode));
  CHECK(napi_get_value_int64(env, argv[2], &dev));
  char *p = arg_string(env, argv[0]);
  if (!p) return NULL;
  int r = mknod(p, (mode_t)mode, (dev_t)dev);
  int e = errno;
  free(p);
  return int_value(env, r < 0 ? -e : 0);
}

/* getxattr(path, name): Buffer, or -errno. */
static napi_value Getxattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *p = arg_string(env, argv[0]);
  char *name = p ? arg_string(env, argv[1]) : NULL;
  if (!name) {
    free(p);
    return NULL;
  }
  napi_value out = NULL;
  for (int attempt = 0; attempt < 4 && out == NULL; attempt++) {
    ssize_t size = lgetxattr(p, name, NULL, 0);
    if (size < 0) {
      out = int_value(env, -errno);
      break;
    }
    void *data;
    napi_value buf;
    if (napi_create_buffer(env, (size_t)size, &data, &buf) != napi_ok) break;
    ssize_t got = size == 0 ? 0 : lgetxattr(p, name, data, (size_t)size);
    if (got < 0 && errno == ERANGE) continue; /* grew in between */
    if (got < 0) {
      out = int_value(env, -errno);
      break;
    }
    if (got < size) {
      napi_value sliced;
      void *d2;
      napi_create_buffer_copy(env, (size_t)got, data, &d2, &sliced);
      out = sliced;
    } else {
      out = buf;
    }
  }
  free(p);
  free(name);
  return out ? out : int_value(env, -EIO);
}

/* listxattr(path): Buffer of NUL-terminated names, or -errno. */
static napi_value Listxattr(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *p = arg_string(env, argv[0]);
  if (!p) return NULL;
  napi_value out = NULL;
  for (int attempt = 0; attempt < 4 && out == NULL; attempt++) {
    ssize_t size = llistxattr(p, NULL, 0);
    if (size < 0) {
      out = int_value(env, -errno);
      break;
    }
    char *data = malloc(size > 0 ? (size_t)size : 1);
    ssize_t got = size == 0 ? 0 : llistxattr(p, data, (size_t)size);
    if (got < 0 && errno == ERANGE) {
      free(data);
      continue;
    }
    if (got < 0) {
      out = int_value(env, -errno);
    } else {
      void *d2;
      napi_create_buffer_copy(env, (size_t)got, data, &d2, &out);
    }
    free(data);
  }
  free(p);
  return out ? out : int_value(env, -EIO);
}

/* setxattr(path, name, value: Buffer, flags): 0 or -errno. */
static napi_value Setxattr(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *data;
  size_t len;
  int32_t flags;
  CHECK(napi_get_buffer_info(env, argv[2], &data, &len));
  CHECK(napi_get_value_int32(env, argv[3], &flags));
  char *p = arg_string(env, argv[0]);
  char *name = p ? arg_string(env, argv[1]) : NULL;
  if (!name) {
    free(p);
    return NULL;
  }
  int r = lsetxattr(p, name, data, len, flags);
  int e = errno;
  free(p);
  free(name);
  return int_value(env, r < 0 ? -e : 0);
}

/* removexattr(path, name): 0 or -errno. */
static napi_value Removexattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *p = arg_string(env, argv[0]);
  char *name = p ? arg_string(env, argv[1]) : NULL;
  if (!name) {
    free(p);
    return NULL;
  }
  int r = lremovexattr(p, name);
  int e = errno;
  free(p);
  free(name);
  return int_value(env, r < 0 ? -e : 0);
}

/* umount(target, detach): 0 or -errno. */
static napi_value Umount(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool detach = false;
  CHECK(napi_get_value_bool(env, argv[1], &detach));
  char *p = arg_string(env, argv[0]);
  if (!p) return NULL;
  int r = umount2(p, detach ? MNT_DETACH : 0);
  int e = errno;
  free(p);
  return int_value(env, r < 0 ? -e : 0);
}

/* invalidateIno(ino): drop the cached attributes of every name showing `ino`; returns how many. */
static napi_value InvalidateIno(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t ino;
  CHECK(napi_get_value_int64(env, argv[0], &ino));
  return int_value(env, alias_invalidate((uint64_t)ino));
}

/* setShownIno(backing, shown): the union shows `shown` for backing inode `backing`;
 * shown 0 forgets it. */
static napi_value SetShownIno(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t backing, shown;
  CHECK(napi_get_value_int64(env, argv[0], &backing));
  CHECK(napi_get_value_int64(env, argv[1], &shown));
  pthread_mutex_lock(&alias_mu);
  struct shown **at = &shown_map[bucket((uint64_t)backing)];
  while (*at && (*at)->backing != (uint64_t)backing) at = &(*at)->next;
  if (shown == 0) {
    if (*at) {
      struct shown *gone = *at;
      *at = gone->next;
      free(gone);
    }
  } else if (*at) {
    (*at)->shown = (uint64_t)shown;
  } else {
    struct shown *s = malloc(sizeof *s);
    if (s) {
      s->backing = (uint64_t)backing;
      s->shown = (uint64_t)shown;
      s->next = NULL;
      *at = s;
    }
  }
  pthread_mutex_unlock(&alias_mu);
  return NULL;
}

/* passthroughDir(path, branchDir): answer path's children and listing from branchDir. */
static napi_value PassthroughDir(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *p = arg_string(env, argv[0]);
  char *b = p ? arg_string(env, argv[1]) : NULL;
  if (!b) {
    free(p);
    return NULL;
  }
  pdir_forget(p, 0);
  struct pdir *d = malloc(sizeof *d);
  if (!d) {
    free(p);
    free(b);
    return NULL;
  }
  d->path = p;
  d->branch = b;
  pthread_rwlock_wrlock(&pdir_lock);
  size_t k = str_bucket(p, strlen(p));
  d->next = pdirs[k];
  pdirs[k] = d;
  pthread_rwlock_unlock(&pdir_lock);
  return NULL;
}

/* forgetPassthrough(path, tree): drop path's registration (and those below it). */
static napi_value ForgetPassthrough(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool tree = false;
  CHECK(napi_get_value_bool(env, argv[1], &tree));
  char *p = arg_string(env, argv[0]);
  if (!p) return NULL;
  pdir_forget(p, tree ? 1 : 0);
  free(p);
  return NULL;
}

/* setDataPath(on): whether the next fuse_new serves file data here (default true). */
static napi_value SetDataPath(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool on = true;
  CHECK(napi_get_value_bool(env, argv[0], &on));
  data_path = on ? 1 : 0;
  return NULL;
}

/* interposed(): whether fuse-native's fuse_new went through this library. */
static napi_value Interposed(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_get_boolean(env, interposed != 0, &out);
  return out;
}

NAPI_MODULE_INIT() {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"requestContext", RequestContext}, {"utimensRequest", UtimensRequest},
      {"utimens", Utimens},               {"mknod", Mknod},
      {"getxattr", Getxattr},             {"listxattr", Listxattr},
      {"setxattr", Setxattr},             {"removexattr", Removexattr},
      {"umount", Umount},                 {"setDataPath", SetDataPath},
      {"interposed", Interposed},         {"invalidateIno", InvalidateIno},
      {"setShownIno", SetShownIno},       {"passthroughDir", PassthroughDir},
      {"forgetPassthrough", ForgetPassthrough},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f) != napi_ok)
      return NULL;
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  return exports;
}
