#include "Migrations.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "MigrationsData.inc" // kMigrationFiles: {dialect, file name, text}

namespace rq {

namespace {

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

} // namespace

std::vector<std::string> splitStatements(const std::string& script) {
    std::vector<std::string> out;
    std::istringstream in(script);
    std::string line, cur;
    bool inDollar = false;
    while (std::getline(in, line)) {
        const std::string t = trim(line);
        if (cur.empty() && (t.empty() || t.rfind("--", 0) == 0)) continue;
        cur += line + "\n";
        for (std::size_t p = line.find("$$"); p != std::string::npos; p = line.find("$$", p + 2)) inDollar = !inDollar;
        const bool trigger = upper(trim(cur)).rfind("CREATE TRIGGER", 0) == 0 && upper(cur).find("\nBEGIN") != std::string::npos;
        const bool ends = !inDollar && !t.empty() && t.back() == ';' && (!trigger || upper(t) == "END;");
        if (ends) {
            out.push_back(trim(cur));
            cur.clear();
        }
    }
    if (!trim(cur).empty()) out.push_back(trim(cur));
    return out;
}

std::vector<Migration> migrations(const std::string& dialect) {
    std::vector<Migration> out;
    for (const auto& f : kMigrationFiles) {
        if (dialect != f.dialect && std::string(f.dialect) != "common") continue;
        Migration m;
        const std::string name = f.file;
        m.version = std::stoi(name.substr(0, name.find('_')));
        m.name = name;
        m.statements = splitStatements(f.text);
        out.push_back(std::move(m));
    }
    std::sort(out.begin(), out.end(), [](const Migration& a, const Migration& b) { return a.version < b.version; });
    return out;
}

} // namespace rq
