/* The operations table fuse-native hands libfuse, wrapped (see aufs-native.c). */
#include "aufs-native.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse_kernel.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


typedef struct fuse *(*fuse_new_fn)(struct fuse_chan *, struct fuse_args *,
                                    const struct fuse_operations *, size_t, void *);

static struct fuse_operations orig_ops;
static struct fuse_operations wrapped_ops;
int interposed = 0;
int data_path = 1;

/* The request slot: valid while `active` is 1, owned by whoever holds slot_mu. */
static pthread_mutex_t slot_mu = PTHREAD_MUTEX_INITIALIZER;
struct request_slot slot;

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

/* Create `p` here when its directory is one only the writable branch holds (made through
 * the union, or opaque there): no copy-up, no whiteout, nothing the union must learn (it
 * asks the writable branch afresh for every name). As UnionOperations.create does: the
 * caller's flags, its owner (the parent's group under a setgid directory), setuid and
 * setgid bits again after the chown. 1 with *r set when done here, 0 for JavaScript. */
static int native_create(const char *p, mode_t mode, struct fuse_file_info *fi, int *r) {
  char full[PATH_MAX];
  const char *name;
  if (!p || !fi || pdir_path(p, full, sizeof full, &name) != PDIR_RW) return 0;
  if (strncmp(name, ".fuse_hidden", 12) == 0) return 0;
  if (strncmp(name, ".wh.", 4) == 0) {
    *r = -EPERM;
    return 1;
  }
  int extra = fi->flags & ~(O_ACCMODE | O_APPEND | O_NOCTTY);
  int fd = open(full, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | extra, mode & 07777);
  if (fd < 0) {
    *r = -errno;
    return 1;
  }
  if (slot.uid != 0 || slot.gid != 0) {
    char parent[PATH_MAX];
    struct stat pst;
    size_t n = strlen(full) - strlen(name) - 1;
    memcpy(parent, full, n);
    parent[n] = '\0';
    gid_t gid = stat(parent, &pst) == 0 && (pst.st_mode & S_ISGID) ? (gid_t)-1 : slot.gid;
    if (fchown(fd, slot.uid, gid) < 0 ||
        ((mode & (S_ISUID | S_ISGID)) && fchmod(fd, mode & 07777) < 0)) {
      *r = -errno;
      close(fd);
      unlink(full);
      return 1;
    }
  }
  fi->fh = (uint64_t)fd;
  *r = 0;
  return 1;
}

static int w_create(const char *p, mode_t mode, struct fuse_file_info *fi) {
  slot_begin();
  slot.flags = fi ? fi->flags : 0;
  int r = 0;
  if (!native_create(p, mode, fi, &r)) r = orig_ops.create(p, mode, fi);
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

/* --- replies libfuse sends: hardlink aliases recorded ---------------------------------- */

typedef int (*reply_entry_fn)(fuse_req_t, const struct fuse_entry_param *);
typedef int (*reply_create_fn)(fuse_req_t, const struct fuse_entry_param *,
                               const struct fuse_file_info *);

AUFS_EXPORT int fuse_reply_entry(fuse_req_t req, const struct fuse_entry_param *e) {
  static reply_entry_fn real = NULL;
  if (!real) real = (reply_entry_fn)dlvsym(RTLD_NEXT, "fuse_reply_entry", "FUSE_2.4");
  alias_record(e);
  return real(req, e);
}

AUFS_EXPORT int fuse_reply_create(fuse_req_t req, const struct fuse_entry_param *e,
                      const struct fuse_file_info *f) {
  static reply_create_fn real = NULL;
  if (!real) real = (reply_create_fn)dlvsym(RTLD_NEXT, "fuse_reply_create", "FUSE_2.5");
  alias_record(e);
  pt_created(e ? e->ino : 0, f);
  return real(req, e, f);
}

/* After a change through an open file: its other names' attributes are stale. */
static void changed_through(int fd) {
  struct stat st;
  if (fstat(fd, &st) == 0 && st.st_nlink > 1) alias_invalidate(shown_ino((uint64_t)st.st_ino));
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
  if (fi && fi->fh > 0) {
    pt_released((int)fi->fh);
    close((int)fi->fh);
  }
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
  /* After a create, libfuse asks for the new file's attributes: its descriptor has them
   * (a file just made in the writable branch shows its own inode number), which spares a
   * second round trip to JavaScript per create. */
  if (p && *p && !(cur_opcode == FUSE_CREATE && fi && fi->fh > 0)) return w_getattr(p, st);
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
  if (p && strcmp(p, "/") != 0 && pdir_find(p, strlen(p), full, sizeof full)) {
    /* A passthrough directory itself: its one branch's directory, whose inode number is
     * the one the union shows for it (its lowest branch's). */
    if (lstat(full, st) < 0) return -errno;
    ms_times(st);
    return 0;
  }
  int kind = p && strcmp(p, "/") != 0 ? pdir_path(p, full, sizeof full, &name) : 0;
  if (kind) {
    if (strncmp(name, ".wh.", 4) == 0) return -ENOENT;
    /* Unlinked while open: the union moved it away and knows where (JavaScript). */
    if (strncmp(name, ".fuse_hidden", 12) == 0) return orig_ops.getattr(p, st);
    if (lstat(full, st) < 0) return -errno;
    ms_times(st);
    /* A file copied up into the writable branch shows its origin's number. */
    if (!S_ISDIR(st->st_mode)) st->st_ino = (ino_t)shown_ino((uint64_t)st->st_ino);
    /* A directory below a passthrough directory is one too (only that branch holds it):
     * registered here, its children's lookups need no round trip to JavaScript either. The
     * union forgets it like any other (UnionTree.forget tells this side every time). */
    if (S_ISDIR(st->st_mode)) {
      char known[PATH_MAX];
      if (!pdir_find(p, strlen(p), known, sizeof known)) {
        char *path = strdup(p), *branch = strdup(full);
        if (path && branch) pdir_register(path, branch, kind == PDIR_RW);
        else {
          free(path);
          free(branch);
        }
      }
    }
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

/* With flag_nopath, libfuse gives readdir no path: opendir keeps it in the handle. */
static int w_opendir(const char *p, struct fuse_file_info *fi) {
  char *copy = strdup(p ? p : "/");
  if (!copy) return -ENOMEM;
  fi->fh = (uint64_t)(uintptr_t)copy;
  opening_dir = 1;
  return 0;
}

static int w_releasedir(const char *p, struct fuse_file_info *fi) {
  (void)p;
  free((void *)(uintptr_t)fi->fh);
  fi->fh = 0;
  return 0;
}

typedef int (*reply_open_fn)(fuse_req_t, const struct fuse_file_info *);

AUFS_EXPORT int fuse_reply_open(fuse_req_t req, const struct fuse_file_info *f) {
  static reply_open_fn real = NULL;
  if (!real) real = (reply_open_fn)dlvsym(RTLD_NEXT, "fuse_reply_open", "FUSE_2.5");
  if (!opening_dir) return pt_reply_open(req, f, real);
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
  if (!p) p = fi && fi->fh ? (const char *)(uintptr_t)fi->fh : NULL;
  if (!p) return -ENOENT;
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

AUFS_EXPORT struct fuse *fuse_new(struct fuse_chan *ch, struct fuse_args *args,
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
    wrapped_ops.releasedir = w_releasedir;
    /* Operations on open files need no path: libfuse skips building one (a walk of its node
     * tree under its lock) for every read and write. */
    wrapped_ops.flag_nullpath_ok = 1;
    wrapped_ops.flag_nopath = 1;
  }
  interposed = 1;
  return real(ch, args, &wrapped_ops, sizeof wrapped_ops, user_data);
}
