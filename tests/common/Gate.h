// The image gate (build/bin/reader-queue-gate) for a test's queue, on the socket the orthanc
// fixture's nginx asks (ORTHANC_GATE): started for the test, stopped (SIGTERM) at its end.
// Without it nginx refuses every gated account's request (500): fails closed.
#pragma once

#include "Orthanc.h"

#include <chrono>
#include <cstdio>
#include <csignal>
#include <fcntl.h>
#include <spawn.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace testutil {

struct Gate {
    pid_t pid = -1;
    std::filesystem::path log;
    Gate(Orthanc& o, const std::string& queueDb, const std::filesystem::path& logFile) : log(logFile) {
        const std::string bin = std::string(RELUTH_BINARY_DIR) + "/bin/reader-queue-gate";
        const std::string listen = o.v["ORTHANC_GATE"];
        if (listen.empty()) throw std::runtime_error("the Orthanc fixture names no ORTHANC_GATE (old orthanc.sh?)");
        std::vector<std::string> args{bin, "--listen", listen, "--db", queueDb, "--orthanc", o.v["ORTHANC_HTTP_LOOPBACK"], "--orthanc-credentials",
                                      o.v["ORTHANC_CREDENTIALS"]};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        const int rc = posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0) throw std::runtime_error("cannot start " + bin);
        for (int i = 0; i < 200; ++i) { // until it listens
            bool up = false;
            if (listen.rfind("unix:", 0) == 0) {
                const int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
                sockaddr_un a{};
                a.sun_family = AF_UNIX;
                std::snprintf(a.sun_path, sizeof a.sun_path, "%s", listen.substr(5).c_str());
                up = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
                ::close(s);
            } else {
                const auto colon = listen.rfind(':');
                const int s = ::socket(AF_INET, SOCK_STREAM, 0);
                sockaddr_in a{};
                a.sin_family = AF_INET;
                a.sin_port = htons(static_cast<uint16_t>(std::stoi(listen.substr(colon + 1))));
                ::inet_pton(AF_INET, listen.substr(0, colon).c_str(), &a.sin_addr);
                up = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
                ::close(s);
            }
            if (up) return;
            int st = 0;
            if (::waitpid(pid, &st, WNOHANG) == pid) {
                pid = -1;
                throw std::runtime_error("reader-queue-gate exited at start; see " + log.string());
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        stop();
        throw std::runtime_error("reader-queue-gate does not listen on " + listen);
    }
    void stop() {
        if (pid <= 0) return;
        ::kill(pid, SIGTERM);
        int st = 0;
        ::waitpid(pid, &st, 0);
        pid = -1;
    }
    ~Gate() { stop(); }
    Gate(const Gate&) = delete;
    Gate& operator=(const Gate&) = delete;
};

} // namespace testutil
