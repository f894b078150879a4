#pragma once
// A pass-through SQLite VFS that remembers, per file, whether bytes were written since the
// file was last synced. Bytes a power cut can lose are exactly those: an acknowledgement is
// durable only if no file holds unsynced writes when it is given. Installed as the default
// VFS for the test process, so the server's own store runs on it unchanged.

#include <sqlite3.h>

#include <cstring>
#include <map>
#include <mutex>
#include <string>

namespace test {

class SyncTracker {
 public:
  static SyncTracker& install() {
    static SyncTracker tracker;
    return tracker;
  }

  /// Files (by path) written since their last sync.
  std::map<std::string, bool> unsynced() {
    std::lock_guard lock(mutex_);
    return dirty_;
  }
  bool any_unsynced(const std::string& path_prefix) {
    std::lock_guard lock(mutex_);
    for (const auto& [path, dirty] : dirty_) {
      if (dirty && path.starts_with(path_prefix)) return true;
    }
    return false;
  }

 private:
  struct File {
    sqlite3_file base;   // must come first: SQLite sees this
    sqlite3_file* real;  // the wrapped file, allocated right after this struct
    char path[1024];     // SQLite allocates this struct without constructing it: no std::string
  };

  SyncTracker() {
    real_ = sqlite3_vfs_find(nullptr);
    vfs_ = *real_;
    vfs_.zName = "sync-tracker";
    vfs_.szOsFile = static_cast<int>(sizeof(File)) + real_->szOsFile;
    vfs_.xOpen = &SyncTracker::open;
    vfs_.pAppData = this;
    methods_ = {};
    methods_.iVersion = 3;
    methods_.xClose = [](sqlite3_file* f) {
      File* file = reinterpret_cast<File*>(f);
      return file->real->pMethods->xClose(file->real);
    };
    methods_.xRead = [](sqlite3_file* f, void* p, int n, sqlite3_int64 o) {
      return real(f)->pMethods->xRead(real(f), p, n, o);
    };
    methods_.xWrite = [](sqlite3_file* f, const void* p, int n, sqlite3_int64 o) {
      mark(f, true);
      return real(f)->pMethods->xWrite(real(f), p, n, o);
    };
    methods_.xTruncate = [](sqlite3_file* f, sqlite3_int64 size) {
      mark(f, true);
      return real(f)->pMethods->xTruncate(real(f), size);
    };
    methods_.xSync = [](sqlite3_file* f, int flags) {
      const int rc = real(f)->pMethods->xSync(real(f), flags);
      if (rc == SQLITE_OK) mark(f, false);
      return rc;
    };
    methods_.xFileSize = [](sqlite3_file* f, sqlite3_int64* size) {
      return real(f)->pMethods->xFileSize(real(f), size);
    };
    methods_.xLock = [](sqlite3_file* f, int l) { return real(f)->pMethods->xLock(real(f), l); };
    methods_.xUnlock = [](sqlite3_file* f, int l) {
      return real(f)->pMethods->xUnlock(real(f), l);
    };
    methods_.xCheckReservedLock = [](sqlite3_file* f, int* out) {
      return real(f)->pMethods->xCheckReservedLock(real(f), out);
    };
    methods_.xFileControl = [](sqlite3_file* f, int op, void* arg) {
      return real(f)->pMethods->xFileControl(real(f), op, arg);
    };
    methods_.xSectorSize = [](sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); };
    methods_.xDeviceCharacteristics = [](sqlite3_file* f) {
      return real(f)->pMethods->xDeviceCharacteristics(real(f));
    };
    methods_.xShmMap = [](sqlite3_file* f, int pg, int sz, int extend, void volatile** p) {
      return real(f)->pMethods->xShmMap(real(f), pg, sz, extend, p);
    };
    methods_.xShmLock = [](sqlite3_file* f, int offset, int n, int flags) {
      return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
    };
    methods_.xShmBarrier = [](sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); };
    methods_.xShmUnmap = [](sqlite3_file* f, int del) {
      return real(f)->pMethods->xShmUnmap(real(f), del);
    };
    methods_.xFetch = [](sqlite3_file* f, sqlite3_int64 o, int n, void** p) {
      return real(f)->pMethods->xFetch(real(f), o, n, p);
    };
    methods_.xUnfetch = [](sqlite3_file* f, sqlite3_int64 o, void* p) {
      return real(f)->pMethods->xUnfetch(real(f), o, p);
    };
    sqlite3_vfs_register(&vfs_, 1);
  }

  static sqlite3_file* real(sqlite3_file* f) { return reinterpret_cast<File*>(f)->real; }
  static void mark(sqlite3_file* f, bool dirty) {
    SyncTracker& self = install();
    std::lock_guard lock(self.mutex_);
    self.dirty_[reinterpret_cast<File*>(f)->path] = dirty;
  }

  static int open(sqlite3_vfs* vfs, const char* name, sqlite3_file* f, int flags, int* out_flags) {
    auto* self = static_cast<SyncTracker*>(vfs->pAppData);
    File* file = reinterpret_cast<File*>(f);
    std::memset(file, 0, sizeof(File));
    file->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + sizeof(File));
    const int rc = self->real_->xOpen(self->real_, name, file->real, flags, out_flags);
    if (rc != SQLITE_OK || file->real->pMethods == nullptr) {
      file->base.pMethods = nullptr;
      return rc;
    }
    std::strncpy(file->path, name ? name : "", sizeof(file->path) - 1);
    file->base.pMethods = &self->methods_;
    return rc;
  }

  sqlite3_vfs* real_ = nullptr;
  sqlite3_vfs vfs_{};
  sqlite3_io_methods methods_{};
  std::mutex mutex_;
  std::map<std::string, bool> dirty_;
};

}  // namespace test
