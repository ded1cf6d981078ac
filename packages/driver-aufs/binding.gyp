{
  "targets": [
    {
      "target_name": "aufs_native",
      "sources": ["native/aufs-native.c", "native/fuse-hooks.c", "native/kernel-caches.c", "native/passthrough.c"],
      "include_dirs": [
        "<!(node -e \"require(require.resolve('fuse-shared-library/include', {paths: [require.resolve('fuse-native')]}))\")"
      ],
      "libraries": ["-l:libfuse.so.2", "-ldl", "-lpthread"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"]
    }
  ]
}
