/* Shared declarations of the aufs native helper (see aufs-native.c for what it is). */
#ifndef AUFS_NATIVE_H
#define AUFS_NATIVE_H

#define FUSE_USE_VERSION 29
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

/* The symbols libfuse and fuse-native must find here (everything else stays hidden). */
#define AUFS_EXPORT __attribute__((visibility("default")))

/* The request slot (fuse-hooks.c): valid while `active` is 1, owned by whoever holds its
 * mutex, that is by the one creating or utimens request whose JavaScript handler runs. */
struct request_slot {
  int active;
  uid_t uid;
  gid_t gid;
  pid_t pid;
  mode_t umask;
  int flags;
  int has_times;
  struct timespec times[2];
};
extern struct request_slot slot;
/* Whether fuse_new went through fuse-hooks.c, and whether it serves file data there. */
extern int interposed;
extern int data_path;

/* kernel-caches.c: hardlink aliases, shown inode numbers, passthrough directories. */
extern struct fuse_chan *channel;
void alias_record(const struct fuse_entry_param *e);
int alias_invalidate(uint64_t ino);
uint64_t shown_ino(uint64_t backing);
void shown_set(uint64_t backing, uint64_t shown);
void pdir_register(char *path, char *branch, int rw); /* takes both strings */
#define PDIR_RO 1
#define PDIR_RW 2
void pdir_forget(const char *path, int tree);
int pdir_find(const char *dir, size_t n, char *out, size_t outsz);
int pdir_path(const char *p, char *out, size_t outsz, const char **name);

/* passthrough.c: FUSE passthrough of open files' data (Linux 6.9+). */
extern int pt_enabled;
/* The opcode of the request this libfuse thread is processing (0: unknown). */
extern __thread uint32_t cur_opcode;
int pt_reply_open(fuse_req_t req, const struct fuse_file_info *f,
                  int (*real)(fuse_req_t, const struct fuse_file_info *));
void pt_created(uint64_t nodeid, const struct fuse_file_info *f);
void pt_released(int fd);

#endif
