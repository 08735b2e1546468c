// Bad input never crashes the engine, and every error names its rule, file and line:
// empty, truncated, binary, huge-field and randomly mutated CSVs (contract §6).
#include "../common/TempDir.h"
#include "recist/Sdtm.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

namespace {

const std::string kTu = "STUDYID,USUBJID,TULNKID,TUORRES,TULOC,TUEVAL,TUEVALID,VISIT,VISITNUM,TUDTC\n"
                        "RELUTH,S1,T01,TARGET,LIVER,IA,R1,BASELINE,1,2024-01-10\n"
                        "RELUTH,S1,T02,TARGET,LYMPH NODE,IA,R1,BASELINE,1,2024-01-10\n"
                        "RELUTH,S1,NT01,NON-TARGET,BONE,IA,R1,BASELINE,1,2024-01-10\n"
                        "RELUTH,S1,NEW01,NEW,LUNG,IA,R1,WEEK 8,2,2024-03-11\n";
const std::string kTr = "STUDYID,USUBJID,TRLNKID,TRTESTCD,TRORRES,TRORRESU,TRSTAT,TRREASND,TREVAL,TREVALID,VISIT,VISITNUM,TRDTC\n"
                        "RELUTH,S1,T01,LDIAM,30,mm,,,IA,R1,BASELINE,1,2024-01-10\n"
                        "RELUTH,S1,T02,SAXIS,20,mm,,,IA,R1,BASELINE,1,2024-01-10\n"
                        "RELUTH,S1,NT01,TUMSTATE,PRESENT,,,,IA,R1,BASELINE,1,2024-01-10\n"
                        "RELUTH,S1,T01,LDIAM,20,mm,,,IA,R1,WEEK 8,2,2024-03-11\n"
                        "RELUTH,S1,T02,SAXIS,TOO SMALL TO MEASURE,mm,,,IA,R1,WEEK 8,2,2024-03-11\n"
                        "RELUTH,S1,NT01,TUMSTATE,ABSENT,,,,IA,R1,WEEK 8,2,2024-03-11\n"
                        "RELUTH,S1,NEW01,TUMSTATE,EQUIVOCAL,,,,IA,R1,WEEK 8,2,2024-03-11\n"
                        "RELUTH,S1,T01,LDIAM,,,NOT DONE,SCAN NOT PERFORMED,IA,R1,WEEK 16,3,\n";
const std::string kSubj = "STUDYID,USUBJID,RANDDT,DTHDT\nRELUTH,S1,2024-01-15,2025-01-01\n";
const std::string kConfig =
    R"({"confirmation_required": true, "confirmation_min_days": 28, "sd_min_days_from_baseline": 42, "dcr_landmark_days": 183, "dcr_window_days": 28})";

recist::sdtm::Input parse(const std::string& tu, const std::string& tr, const std::string& subj, const std::string& config) {
    recist::sdtm::Files f;
    f.tu = tu;
    f.tr = tr;
    f.subj = subj;
    f.config = config;
    return recist::sdtm::parse(f);
}

/// Every error is complete; a valid result evaluates and writes.
void checkOutcome(const recist::sdtm::Input& in, const std::string& what) {
    for (const auto& e : in.errors) {
        EXPECT_FALSE(e.rule.empty()) << what;
        EXPECT_FALSE(e.file.empty()) << what;
        EXPECT_GE(e.line, 1) << what << ": " << e.format();
        EXPECT_EQ(e.format().rfind("ERROR " + e.rule + " " + e.file + ":" + std::to_string(e.line) + " ", 0), 0u);
    }
    if (in.errors.empty()) {
        std::vector<recist::SubjectResult> results;
        for (const auto& r : in.reads) results.push_back(recist::evaluate(r, in.options));
        EXPECT_FALSE(recist::sdtm::writeRs(results).empty());
    } else {
        EXPECT_TRUE(in.reads.empty()) << what << ": all or nothing";
    }
}

} // namespace

TEST(Robustness, TheBaseCaseIsValid) {
    const auto in = parse(kTu, kTr, kSubj, kConfig);
    EXPECT_TRUE(in.errors.empty()) << in.errors.front().format();
}

TEST(Robustness, EmptyFiles) {
    for (int which = 0; which < 4; ++which) {
        const auto in = parse(which == 0 ? "" : kTu, which == 1 ? "" : kTr, which == 2 ? "" : kSubj, which == 3 ? "" : kConfig);
        ASSERT_FALSE(in.errors.empty()) << which;
        checkOutcome(in, "empty file " + std::to_string(which));
        EXPECT_EQ(in.errors.front().line, 1);
    }
}

TEST(Robustness, TruncatedAnywhere) {
    for (std::size_t cut = 0; cut < kTr.size(); cut += 3) {
        checkOutcome(parse(kTu, kTr.substr(0, cut), kSubj, kConfig), "TR cut at " + std::to_string(cut));
    }
    for (std::size_t cut = 0; cut < kTu.size(); cut += 5) {
        checkOutcome(parse(kTu.substr(0, cut), kTr, kSubj, kConfig), "TU cut at " + std::to_string(cut));
    }
    for (std::size_t cut = 0; cut < kConfig.size(); cut += 4) {
        checkOutcome(parse(kTu, kTr, kSubj, kConfig.substr(0, cut)), "config cut at " + std::to_string(cut));
    }
}

TEST(Robustness, BinaryGarbage) {
    std::mt19937 rng(11);
    for (int i = 0; i < 50; ++i) {
        std::string junk(static_cast<std::size_t>(rng() % 4000), '\0');
        for (char& c : junk) c = static_cast<char>(rng());
        checkOutcome(parse(kTu, kTr + junk, kSubj, kConfig), "binary tail");
        checkOutcome(parse(junk, kTr, kSubj, kConfig), "binary TU");
        checkOutcome(parse(kTu, kTr, kSubj, junk), "binary config");
    }
}

TEST(Robustness, HugeFieldsAndNumbers) {
    const std::string huge(5u << 20, 'X');
    auto withValue = [&](const std::string& value) {
        std::string tr = kTr;
        tr.replace(tr.find(",30,mm"), 6, "," + value + ",mm");
        return parse(kTu, tr, kSubj, kConfig);
    };
    for (const std::string& value : {huge, std::string(400, '9'), "1" + std::string(30, '0') + ".5", "\"" + huge + "\"",
                                     "0." + std::string(500, '7'), std::string("\"unterminated")}) {
        const auto in = withValue(value);
        ASSERT_FALSE(in.errors.empty()) << value.substr(0, 40);
        checkOutcome(in, "value " + value.substr(0, 20));
    }
    // A huge quoted comment is fine.
    std::string tr = kTr;
    tr.replace(tr.find(",,,IA,R1,BASELINE,1,2024-01-10"), 3, ",,\"" + huge + "\",");
    checkOutcome(parse(kTu, tr, kSubj, kConfig), "huge comment");
}

TEST(Robustness, RandomMutations) {
    std::mt19937 rng(12);
    const std::string alphabet = ",\"\r\n-.0123456789AXmT ";
    for (int i = 0; i < 1500; ++i) {
        std::string tr = kTr, tu = kTu;
        std::string& target = i % 3 == 0 ? tu : tr;
        for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) {
            const std::size_t pos = rng() % (target.size() + 1);
            switch (rng() % 3) {
            case 0: target.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
            case 1:
                if (pos < target.size()) target.erase(pos, 1 + rng() % 8);
                break;
            default:
                if (pos < target.size()) target[pos] = alphabet[rng() % alphabet.size()];
                break;
            }
        }
        checkOutcome(parse(tu, tr, kSubj, kConfig), "mutation " + std::to_string(i));
    }
}

TEST(Robustness, HugeRecordThroughTheStreamedReader) {
    testutil::TempDir dir("recist-huge");
    std::string tr = kTr;
    tr.replace(tr.find(",,,IA,R1,BASELINE,1,2024-01-10"), 3, ",,\"" + std::string(3u << 20, 'Y') + "\n\",");
    tr += "RELUTH,S1,T01,LDIAM,abc,mm,,,IA,R1,WEEK 24,4,2024-07-01\n";
    for (const auto& [name, text] : {std::pair{"TU.csv", kTu}, {"TR.csv", tr}, {"SUBJ.csv", kSubj}, {"config.json", kConfig}}) {
        std::ofstream(dir.path() / name, std::ios::binary) << text;
    }
    const auto in = recist::sdtm::parseFiles((dir.path() / "TU.csv").string(), (dir.path() / "TR.csv").string(),
                                             (dir.path() / "SUBJ.csv").string(), (dir.path() / "config.json").string());
    ASSERT_EQ(in.errors.size(), 1u);
    EXPECT_EQ(in.errors[0].rule, "NON_NUMERIC");
    EXPECT_EQ(in.errors[0].line, 11); // header + 8 rows, one of them on two lines
}
