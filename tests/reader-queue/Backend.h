// A fresh database of each backend for a test: SQLite in a temporary folder, or a new
// database on the PostgreSQL server that postgres.sh started for ctest (RELUTH_PG_URL_FILE).
#pragma once

#include "readerqueue/Database.h"
#include "../common/Run.h"
#include "../common/TempDir.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace rqtest {

using namespace rq;

using testutil::run;

/// A fresh, empty database of the backend under test; removed afterwards.
class Backend {
public:
    explicit Backend(const std::string& kind) : dir_("queue-db") {
        static std::atomic<int> counter{0};
        if (kind == "sqlite") {
            url_ = "sqlite:" + (dir_.path() / "queue.db").string();
            return;
        }
        const char* file = std::getenv("RELUTH_PG_URL_FILE");
        if (!file) return; // not under ctest: the PostgreSQL cases skip
        std::ifstream in(file);
        std::string admin;
        std::getline(in, admin);
        if (admin.empty()) throw std::runtime_error(std::string("no PostgreSQL URL in ") + file + " (did postgres.sh start?)");
        adminUrl_ = admin;
        name_ = "rq_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
        auto db = Database::open(admin);
        db->exec("CREATE DATABASE " + name_);
        url_ = admin.substr(0, admin.rfind('/') + 1) + name_;
    }
    ~Backend() {
        if (name_.empty()) return;
        try {
            Database::open(adminUrl_)->exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
        } catch (...) {}
    }
    bool available() const { return !url_.empty(); }
    const std::string& url() const { return url_; }

private:
    testutil::TempDir dir_;
    std::string url_, adminUrl_, name_;
};

} // namespace rqtest
