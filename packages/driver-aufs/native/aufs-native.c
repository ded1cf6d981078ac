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
 *
 * Files: fuse-hooks.c (fuse_new, the wrapped operations, the data path, the reply hooks),
 * kernel-caches.c (aliases, shown inode numbers, passthrough directories), passthrough.c
 * (FUSE passthrough of open files' data, Linux 6.9+), this file (the functions JavaScript
 * calls).
 */
#include "aufs-native.h"

#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>


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
  shown_set((uint64_t)backing, (uint64_t)shown);
  return NULL;
}

/* passthroughDir(path, branchDir, writable): answer path's children and listing from
 * branchDir (with writable, the writable branch's: new files are made there too). */
static napi_value PassthroughDir(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool rw = false;
  if (argc >= 3) napi_get_value_bool(env, argv[2], &rw);
  char *p = arg_string(env, argv[0]);
  char *b = p ? arg_string(env, argv[1]) : NULL;
  if (!b) {
    free(p);
    return NULL;
  }
  pdir_register(p, b, rw ? 1 : 0);
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
