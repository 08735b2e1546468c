// The recist command line and the streamed file reader, end to end on real files.
#include "../common/TempDir.h"
#include "recist/Sdtm.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& text) {
    std::ofstream o(p, std::ios::binary);
    o << text;
}

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

struct RunResult {
    int status = -1;
    std::string output;
};

RunResult run(const std::string& command) {
    RunResult r;
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p)) r.output += buf;
    const int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

/// A small valid trial: subject S1 PR then PD; subject S2 with a quoted, multi-line comment.
void writeTrial(const fs::path& d) {
    write(d / "TU.csv", "STUDYID,USUBJID,TULNKID,TUORRES,TULOC,TUEVAL,TUEVALID,VISIT,VISITNUM,TUDTC\n"
                        "RELUTH,S1,T01,TARGET,LIVER,IA,RADIOLOGIST 1,BASELINE,1,2024-01-10\n"
                        "RELUTH,S1,NT01,NON-TARGET,BONE,IA,RADIOLOGIST 1,BASELINE,1,2024-01-10\n"
                        "RELUTH,S2,T01,TARGET,\"LYMPH NODE, AXILLARY\",IA,RADIOLOGIST 1,BASELINE,1,2024-01-12\n");
    write(d / "TR.csv", "STUDYID,USUBJID,TRLNKID,TRTESTCD,TRORRES,TRORRESU,TRSTAT,TRREASND,TREVAL,TREVALID,VISIT,VISITNUM,TRDTC\n"
                        "RELUTH,S1,T01,LDIAM,50,mm,,,IA,RADIOLOGIST 1,BASELINE,1,2024-01-10\n"
                        "RELUTH,S1,NT01,TUMSTATE,PRESENT,,,,IA,RADIOLOGIST 1,BASELINE,1,2024-01-10\n"
                        "RELUTH,S2,T01,SAXIS,20,mm,,\"a comment\nover two lines\",IA,RADIOLOGIST 1,BASELINE,1,2024-01-12\n"
                        "RELUTH,S1,T01,LDIAM,30,mm,,,IA,RADIOLOGIST 1,WEEK 8,2,2024-03-11\n"
                        "RELUTH,S1,NT01,TUMSTATE,PRESENT,,,,IA,RADIOLOGIST 1,WEEK 8,2,2024-03-11\n"
                        "RELUTH,S2,T01,SAXIS,12,mm,,,IA,RADIOLOGIST 1,WEEK 8,2,2024-03-13\n"
                        "RELUTH,S1,T01,LDIAM,40,mm,,,IA,RADIOLOGIST 1,WEEK 16,3,2024-05-06\n"
                        "RELUTH,S1,NT01,TUMSTATE,PRESENT,,,,IA,RADIOLOGIST 1,WEEK 16,3,2024-05-06\n");
    write(d / "SUBJ.csv", "STUDYID,USUBJID,RANDDT,DTHDT\nRELUTH,S1,2024-01-15,\nRELUTH,S2,2024-01-16,\n");
    write(d / "config.json", R"({"confirmation_required": false, "confirmation_min_days": 28,
 "sd_min_days_from_baseline": 42, "dcr_landmark_days": 183, "dcr_window_days": 28})");
}

std::string command(const fs::path& d, const std::string& extra = "") {
    return std::string(RECIST_CLI) + " evaluate --tu " + (d / "TU.csv").string() + " --tr " + (d / "TR.csv").string() + " --subjects " +
           (d / "SUBJ.csv").string() + " --config " + (d / "config.json").string() + " --out " + (d / "RS.csv").string() + extra;
}

} // namespace

TEST(Cli, WritesRsAndExplains) {
    testutil::TempDir dir("recist-cli");
    writeTrial(dir.path());
    const RunResult r = run(command(dir.path(), " --explain"));
    ASSERT_EQ(r.status, 0) << r.output;
    const std::string rs = read(dir.path() / "RS.csv");
    EXPECT_EQ(rs.rfind("STUDYID,USUBJID,RSEVALID,VISITNUM,RSTESTCD,RSORRES,RSDTC\n", 0), 0u);
    EXPECT_NE(rs.find("RELUTH,S1,RADIOLOGIST 1,3,OVRLRESP,PD,2024-05-06"), std::string::npos) << rs;
    EXPECT_NE(rs.find("RELUTH,S1,RADIOLOGIST 1,,BESTRESP,PR,"), std::string::npos);
    EXPECT_NE(rs.find("RELUTH,S2,RADIOLOGIST 1,2,TRGRESP,PR,2024-03-13"), std::string::npos);
    // S1: baseline sum, 7 rows at each of 2 follow-ups, 4 subject rows; S2 (no non-target): 1 + 6 + 4.
    EXPECT_EQ(std::count(rs.begin(), rs.end(), '\n'), 1 + 19 + 11) << rs;
    EXPECT_NE(r.output.find("PD: SOD 40.0 mm is +33.3 % and +10.0 mm over the nadir 30.0 mm (visit 2)"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(dir.path() / "RS.csv.tmp"));
}

TEST(Cli, BadInputWritesNoFileAndNamesEveryRow) {
    testutil::TempDir dir("recist-cli-bad");
    writeTrial(dir.path());
    std::string tr = read(dir.path() / "TR.csv");
    tr.replace(tr.find("2024-03-11"), 10, "2024-03-41");
    tr.replace(tr.find("12,mm"), 5, "12,cm");
    write(dir.path() / "TR.csv", tr);
    const RunResult r = run(command(dir.path()));
    EXPECT_EQ(r.status, 1);
    // The quoted two-line comment makes the bad date's row line 6 and the unit's line 8.
    EXPECT_NE(r.output.find("ERROR BAD_DATE " + (dir.path() / "TR.csv").string() + ":6 "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("ERROR BAD_UNIT " + (dir.path() / "TR.csv").string() + ":8 "), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(dir.path() / "RS.csv"));
    EXPECT_FALSE(fs::exists(dir.path() / "RS.csv.tmp"));
}

TEST(Cli, MissingFileAndUsage) {
    testutil::TempDir dir("recist-cli-missing");
    writeTrial(dir.path());
    fs::remove(dir.path() / "SUBJ.csv");
    const RunResult r = run(command(dir.path()));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.output.find("ERROR IO " + (dir.path() / "SUBJ.csv").string()), std::string::npos) << r.output;
    EXPECT_EQ(run(std::string(RECIST_CLI) + " evaluate --tu x").status, 2);
}

TEST(StreamedReader, SameResultAndLinesWhateverTheBlockSize) {
    testutil::TempDir dir("recist-chunks");
    writeTrial(dir.path());
    // A bad row at the end so that error lines are compared too.
    std::string tr = read(dir.path() / "TR.csv");
    tr += "RELUTH,S1,T01,LDIAM,x,mm,,,IA,RADIOLOGIST 1,WEEK 24,4,2024-07-01\n";
    write(dir.path() / "TR.csv", tr);
    const std::string tuText = read(dir.path() / "TU.csv"), subj = read(dir.path() / "SUBJ.csv"), config = read(dir.path() / "config.json");
    recist::sdtm::Files whole;
    whole.tu = tuText;
    whole.tr = tr;
    whole.subj = subj;
    whole.config = config;
    const auto expected = recist::sdtm::parse(whole);
    ASSERT_EQ(expected.errors.size(), 1u);
    EXPECT_EQ(expected.errors[0].line, 11);
    for (std::size_t block : {16u, 50u, 97u, 300u, 1u << 20}) {
        recist::sdtm::Files streamed = whole;
        streamed.tr = {};
        streamed.trChunks = recist::sdtm::csvFileChunks((dir.path() / "TR.csv").string(), block);
        const auto got = recist::sdtm::parse(streamed);
        ASSERT_EQ(got.errors.size(), 1u) << "block " << block;
        EXPECT_EQ(got.errors[0].line, 11) << "block " << block;
        EXPECT_EQ(got.errors[0].rule, "NON_NUMERIC");
    }
    // Valid input: identical RS.
    tr.erase(tr.rfind("RELUTH,S1,T01,LDIAM,x"));
    write(dir.path() / "TR.csv", tr);
    whole.tr = tr;
    auto rsOf = [](const recist::sdtm::Input& in) {
        std::vector<recist::SubjectResult> results;
        for (const auto& r : in.reads) results.push_back(recist::evaluate(r, in.options));
        return recist::sdtm::writeRs(results);
    };
    const std::string rs = rsOf(recist::sdtm::parse(whole));
    for (std::size_t block : {16u, 61u, 1u << 20}) {
        recist::sdtm::Files streamed = whole;
        streamed.tr = {};
        streamed.trChunks = recist::sdtm::csvFileChunks((dir.path() / "TR.csv").string(), block);
        EXPECT_EQ(rsOf(recist::sdtm::parse(streamed)), rs) << "block " << block;
    }
}
