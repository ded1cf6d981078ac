/* What the kernel is told about, and what spares it round trips to JavaScript: the node ids
 * of every name of a hardlinked file, the inode numbers shown for copied-up files, and the
 * passthrough directories. */
#include "aufs-native.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


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
struct fuse_chan *channel = NULL;

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

void alias_record(const struct fuse_entry_param *e) {
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
int alias_invalidate(uint64_t ino) {
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

uint64_t shown_ino(uint64_t backing) {
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

void shown_set(uint64_t backing, uint64_t shown) {
  pthread_mutex_lock(&alias_mu);
  struct shown **at = &shown_map[bucket(backing)];
  while (*at && (*at)->backing != backing) at = &(*at)->next;
  if (shown == 0) {
    if (*at) {
      struct shown *gone = *at;
      *at = gone->next;
      free(gone);
    }
  } else if (*at) {
    (*at)->shown = shown;
  } else {
    struct shown *s = malloc(sizeof *s);
    if (s) {
      s->backing = backing;
      s->shown = shown;
      s->next = NULL;
      *at = s;
    }
  }
  pthread_mutex_unlock(&alias_mu);
}

/* --- passthrough directories ----------------------------------------------------------------
 * A directory that only one branch holds (no other branch merges into it: a read-only
 * branch's, or one only the writable branch has) resolves its children by plain lookup in
 * that branch's directory: no whiteout can apply, and what changes there changes through
 * the union, which asks the branch afresh (lstat, opendir) every time. The union (JavaScript) decides
 * which directories those are and registers them here with the branch directory; getattr
 * of their children and readdir of them are then answered on libfuse's thread, without a
 * round trip to JavaScript. The union drops a registration before anything could make the
 * directory resolve otherwise (a copy-up into the writable branch, a rename or removal).
 */

struct pdir {
  char *path;   /* union path, "/a/b" */
  char *branch; /* the branch's directory */
  int rw;       /* the branch is the writable one */
  struct pdir *next;
};

static pthread_rwlock_t pdir_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct pdir *pdirs[ALIAS_BUCKETS];

static size_t str_bucket(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return (size_t)(h % ALIAS_BUCKETS);
}

/* Copy the branch directory of union directory `dir` (length n) into out: PDIR_RO or
 * PDIR_RW (the writable branch's), 0 when none. */
int pdir_find(const char *dir, size_t n, char *out, size_t outsz) {
  int found = 0;
  pthread_rwlock_rdlock(&pdir_lock);
  for (struct pdir *d = pdirs[str_bucket(dir, n)]; d; d = d->next) {
    if (strlen(d->path) == n && memcmp(d->path, dir, n) == 0) {
      size_t bl = strlen(d->branch);
      if (bl < outsz) {
        memcpy(out, d->branch, bl + 1);
        found = d->rw ? PDIR_RW : PDIR_RO;
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
void pdir_forget(const char *path, int tree) {
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

int pdir_path(const char *p, char *out, size_t outsz, const char **name) {
  const char *slash = strrchr(p, '/');
  if (!slash) return 0;
  size_t n = slash == p ? 1 : (size_t)(slash - p);
  char branch[PATH_MAX];
  int kind = pdir_find(p, n, branch, sizeof branch);
  if (!kind) return 0;
  *name = slash + 1;
  return snprintf(out, outsz, "%s/%s", branch, slash + 1) < (int)outsz ? kind : 0;
}

void pdir_register(char *path, char *branch, int rw) {
  pdir_forget(path, 0);
  struct pdir *d = malloc(sizeof *d);
  if (!d) {
    free(path);
    free(branch);
    return;
  }
  d->path = path;
  d->branch = branch;
  d->rw = rw;
  pthread_rwlock_wrlock(&pdir_lock);
  size_t k = str_bucket(path, strlen(path));
  d->next = pdirs[k];
  pdirs[k] = d;
  pthread_rwlock_unlock(&pdir_lock);
}
