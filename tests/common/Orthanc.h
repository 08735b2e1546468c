// The Orthanc that tests/servers/orthanc.sh started for ctest (RELUTH_ORTHANC_STATE): where it
// is, and REST calls with the manager's account from a curl config file (never a command line).
#pragma once

#include "Run.h"
#include "TempDir.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

namespace testutil {

/// The server orthanc.sh started: its state file's KEY=VALUE lines, and REST calls with the
/// manager's account (from a curl config file, never on a command line).
struct Orthanc {
    std::map<std::string, std::string> v;
    std::string user, password; ///< the manager's Orthanc account
    std::filesystem::path stateFile, curlConfig;
    TempDir dir{"orthanc-client"};

    bool load() {
        // the environment (ctest sets it), else the fixture's state file in the build folder
        // while the fixture runs (a test that cannot have both environment variables set)
        const char* s = std::getenv("RELUTH_ORTHANC_STATE");
        stateFile = s ? std::filesystem::path(s) : std::filesystem::path(RELUTH_BINARY_DIR) / "test-tmp/orthanc.state";
        if (!std::filesystem::exists(stateFile)) return false;
        std::ifstream in(stateFile);
        std::string line;
        while (std::getline(in, line))
            if (const auto eq = line.find('='); eq != std::string::npos) v[line.substr(0, eq)] = line.substr(eq + 1);
        if (v["ORTHANC_URL"].empty()) throw std::runtime_error("no ORTHANC_URL in " + stateFile.string() + " (did orthanc.sh start?)");
        std::ifstream creds(v["ORTHANC_CREDENTIALS"]);
        std::string role, u, p;
        while (creds >> role >> u >> p)
            if (role == "manager") {
                user = u;
                password = p;
                break;
            }
        curlConfig = dir.path() / "curl.cfg";
        std::ofstream(curlConfig) << "user = \"" << user << ":" << password << "\"\ncacert = \"" << v["ORTHANC_CA"] << "\"\n";
        std::filesystem::permissions(curlConfig, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
        return true;
    }
    nlohmann::json get(const std::string& path) {
        std::string out;
        const int rc = testutil::run("curl -fsS -K " + curlConfig.string() + " '" + v["ORTHANC_URL"] + path + "'", &out);
        if (rc != 0) throw std::runtime_error("GET " + path + " failed (" + std::to_string(rc) + "): " + out);
        return nlohmann::json::parse(out);
    }
    /// The Orthanc resources holding this SOP Instance UID (empty: not on the server).
    nlohmann::json lookup(const std::string& uid) {
        std::string out;
        const int rc = testutil::run(
            "curl -fsS -K " + curlConfig.string() + " -X POST --data-binary '" + uid + "' '" + v["ORTHANC_URL"] + "/tools/lookup'", &out);
        if (rc != 0) throw std::runtime_error("lookup " + uid + " failed: " + out);
        return nlohmann::json::parse(out);
    }
    /// The password of an Orthanc account (role) from the fixture's 0600 credentials file; empty when none.
    std::string passwordOf(const std::string& account) {
        std::ifstream creds(v["ORTHANC_CREDENTIALS"]);
        std::string role, u, p;
        while (creds >> role >> u >> p)
            if (role == account) return p;
        return {};
    }
    std::int64_t instances() { return get("/statistics")["CountInstances"].get<std::int64_t>(); }
    std::string peer() { return v["ORTHANC_AET"] + "@127.0.0.1:" + v["ORTHANC_DICOM_PORT"]; }
};

} // namespace testutil
