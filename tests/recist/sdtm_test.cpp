// The SDTM contract: columns by name, CSV dialects, every input rule with its line, and
// the RS output.
#include "recist/Sdtm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace {

const char* kConfig = R"({"confirmation_required": false, "confirmation_min_days": 28,
 "sd_min_days_from_baseline": 42, "dcr_landmark_days": 183, "dcr_window_days": 28})";

const std::string kTuHeader = "STUDYID,USUBJID,TULNKID,TUORRES,TULOC,TUEVAL,TUEVALID,VISIT,VISITNUM,TUDTC\n";
const std::string kTrHeader = "STUDYID,USUBJID,TRLNKID,TRTESTCD,TRORRES,TRORRESU,TRSTAT,TRREASND,TREVAL,TREVALID,VISIT,VISITNUM,TRDTC\n";
const std::string kSubj = "STUDYID,USUBJID,RANDDT,DTHDT\nRELUTH,S1,2024-01-15,\n";

std::string tu(const std::string& id, const std::string& role, const std::string& loc, const std::string& visit = "1",
               const std::string& date = "2024-01-10", const std::string& subject = "S1") {
    return "RELUTH," + subject + "," + id + "," + role + "," + loc + ",INDEPENDENT ASSESSOR,RADIOLOGIST 1,V," + visit + "," + date + "\n";
}

std::string tr(const std::string& id, const std::string& test, const std::string& value, const std::string& visit, const std::string& date,
               const std::string& unit = "mm", const std::string& stat = "", const std::string& reason = "",
               const std::string& subject = "S1") {
    return "RELUTH," + subject + "," + id + "," + test + "," + value + "," + unit + "," + stat + "," + reason +
           ",INDEPENDENT ASSESSOR,RADIOLOGIST 1,V," + visit + "," + date + "\n";
}

/// A valid two-visit read: T01 liver, T02 node, NT01 bone.
struct Case {
    std::string tuText = kTuHeader + tu("T01", "TARGET", "LIVER") + tu("T02", "TARGET", "LYMPH NODE") + tu("NT01", "NON-TARGET", "BONE");
    std::string trText = kTrHeader + tr("T01", "LDIAM", "30", "1", "2024-01-10") + tr("T02", "SAXIS", "20", "1", "2024-01-10") +
                         tr("NT01", "TUMSTATE", "PRESENT", "1", "2024-01-10", "") + tr("T01", "LDIAM", "20", "2", "2024-03-11") +
                         tr("T02", "SAXIS", "12", "2", "2024-03-11") + tr("NT01", "TUMSTATE", "PRESENT", "2", "2024-03-11", "");
    std::string subjText = kSubj;
    std::string configText = kConfig;

    recist::sdtm::Input parse() const {
        recist::sdtm::Files f;
        f.tu = tuText;
        f.tr = trText;
        f.subj = subjText;
        f.config = configText;
        return recist::sdtm::parse(f);
    }
    /// "RULE FILE:LINE" of every error.
    std::vector<std::string> errors() const {
        std::vector<std::string> out;
        for (const auto& e : parse().errors) out.push_back(e.rule + " " + e.file + ":" + std::to_string(e.line));
        return out;
    }
};

void replaceOnce(std::string& s, const std::string& from, const std::string& to) {
    const auto pos = s.find(from);
    ASSERT_NE(pos, std::string::npos) << from;
    s.replace(pos, from.size(), to);
}

std::map<std::string, std::string> rs(const recist::sdtm::Input& in) {
    std::vector<recist::SubjectResult> results;
    for (const auto& r : in.reads) results.push_back(recist::evaluate(r, in.options));
    std::map<std::string, std::string> out;
    const std::string text = recist::sdtm::writeRs(results);
    std::size_t pos = text.find('\n') + 1;
    while (pos < text.size()) {
        const std::size_t end = text.find('\n', pos);
        const std::string line = text.substr(pos, end - pos);
        // key: VISITNUM/RSTESTCD ; value: RSORRES|RSDTC
        std::vector<std::string> f;
        std::size_t a = 0;
        for (std::size_t b; (b = line.find(',', a)) != std::string::npos; a = b + 1) f.push_back(line.substr(a, b - a));
        f.push_back(line.substr(a));
        out[f[3] + "/" + f[4]] = f[5] + "|" + f[6];
        pos = end + 1;
    }
    return out;
}

} // namespace

TEST(Sdtm, ValidCaseProducesTheContractRows) {
    Case c;
    const auto in = c.parse();
    ASSERT_TRUE(in.errors.empty()) << in.errors.front().format();
    const auto rows = rs(in);
    EXPECT_EQ(rows.at("1/SUMDIAM"), "50.0|2024-01-10");
    EXPECT_EQ(rows.at("2/SUMDIAM"), "32.0|2024-03-11");
    EXPECT_EQ(rows.at("2/PCHGBL"), "-36.0|2024-03-11");
    EXPECT_EQ(rows.at("2/PCHGNAD"), "-36.0|2024-03-11");
    EXPECT_EQ(rows.at("2/TRGRESP"), "PR|2024-03-11");
    EXPECT_EQ(rows.at("2/NTRGRESP"), "NON-CR/NON-PD|2024-03-11");
    EXPECT_EQ(rows.at("2/NEWLIND"), "N|2024-03-11");
    EXPECT_EQ(rows.at("2/OVRLRESP"), "PR|2024-03-11");
    EXPECT_EQ(rows.at("/BESTRESP"), "PR|");
    EXPECT_EQ(rows.at("/BRMODE"), "UNCONFIRMED|");
    EXPECT_EQ(rows.at("/PDDT"), "|");
    EXPECT_EQ(rows.at("/DCR6M"), "NE|");
    EXPECT_EQ(rows.size(), 12u);
}

TEST(Sdtm, ColumnsByNameQuotingCrlfAndBom) {
    Case c;
    // Reverse the TR columns, quote a field with a comma, CRLF line ends and a BOM.
    std::string tr =
        "\xEF\xBB\xBFTRDTC,VISITNUM,VISIT,TREVALID,TREVAL,TRREASND,TRSTAT,TRORRESU,TRORRES,TRTESTCD,TRLNKID,USUBJID,STUDYID,EXTRA\r\n";
    tr += "2024-01-10,1,\"SCREENING, DAY 1\",RADIOLOGIST 1,INDEPENDENT ASSESSOR,,,mm,30,LDIAM,T01,S1,RELUTH,x\r\n";
    tr += "2024-01-10,1,V,RADIOLOGIST 1,INDEPENDENT ASSESSOR,,,mm,20,LPERP,T02,S1,RELUTH,\"a \"\"quoted\"\" value\"\r\n";
    tr += "2024-01-10,1,V,RADIOLOGIST 1,INDEPENDENT ASSESSOR,,,,PRESENT,TUMSTATE,NT01,S1,RELUTH,\r\n";
    tr += "2024-03-11,2,V,RADIOLOGIST 1,INDEPENDENT ASSESSOR,,,mm,20,LDIAM,T01,S1,RELUTH,\r\n";
    tr += "2024-03-11,2,V,RADIOLOGIST 1,INDEPENDENT ASSESSOR,,,mm,12,SAXIS,T02,S1,RELUTH,\r\n";
    tr += "2024-03-11,2,V,RADIOLOGIST 1,INDEPENDENT ASSESSOR,,,,PRESENT,TUMSTATE,NT01,S1,RELUTH,\r\n";
    c.trText = tr;
    const auto in = c.parse();
    ASSERT_TRUE(in.errors.empty()) << in.errors.front().format();
    EXPECT_EQ(rs(in).at("2/TRGRESP"), "PR|2024-03-11");
}

struct RuleCase {
    const char* name;
    std::function<void(Case&)> mutate;
    std::vector<std::string> expected;
};

class SdtmRules : public ::testing::TestWithParam<RuleCase> {};

TEST_P(SdtmRules, ReportsRuleAndLine) {
    Case c;
    GetParam().mutate(c);
    const auto in = c.parse();
    EXPECT_TRUE(in.reads.empty()) << "all-or-nothing";
    EXPECT_EQ(c.errors(), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Contract, SdtmRules,
    ::testing::Values(
        RuleCase{"MissingColumn", [](Case& c) { replaceOnce(c.trText, "TRSTAT,", "TRSTATUS,"); }, {"MISSING_COLUMN TR.csv:1"}},
        RuleCase{"MissingSubjectColumn", [](Case& c) { replaceOnce(c.subjText, "RANDDT", "RAND"); }, {"MISSING_COLUMN SUBJ.csv:1"}},
        RuleCase{"BadTrDate", [](Case& c) { replaceOnce(c.trText, "2024-03-11", "2024-02-30"); }, {"BAD_DATE TR.csv:5"}},
        RuleCase{"EmptyTrDate", [](Case& c) { replaceOnce(c.trText, ",2024-03-11\n", ",\n"); }, {"BAD_DATE TR.csv:5"}},
        RuleCase{"BadRandomizationDate", [](Case& c) { replaceOnce(c.subjText, "2024-01-15", "15/01/2024"); }, {"BAD_DATE SUBJ.csv:2"}},
        RuleCase{"BadDeathDate", [](Case& c) { replaceOnce(c.subjText, "2024-01-15,", "2024-01-15,2024-13-01"); }, {"BAD_DATE SUBJ.csv:2"}},
        RuleCase{"BadTuDate", [](Case& c) { replaceOnce(c.tuText, "2024-01-10", "2024-1-10"); }, {"BAD_DATE TU.csv:2"}},
        RuleCase{"BadVisitnum", [](Case& c) { replaceOnce(c.trText, ",V,2,", ",V,two,"); }, {"BAD_VISITNUM TR.csv:5"}},
        RuleCase{"VisitOrder",
                 [](Case& c) { c.trText += tr("T01", "LDIAM", "20", "3", "2024-02-01") + tr("T02", "SAXIS", "12", "3", "2024-02-01"); },
                 {"VISIT_ORDER TR.csv:8"}},
        RuleCase{"NonNumeric",
                 [](Case& c) {
                     replaceOnce(c.trText, ",20,mm,,,INDEPENDENT ASSESSOR,RADIOLOGIST 1,V,2",
                                 ",twenty,mm,,,INDEPENDENT ASSESSOR,RADIOLOGIST 1,V,2");
                 },
                 {"NON_NUMERIC TR.csv:5"}},
        RuleCase{"NegativeSize", [](Case& c) { replaceOnce(c.trText, ",12,mm", ",-12,mm"); }, {"NEGATIVE_SIZE TR.csv:6"}},
        RuleCase{"BadUnit", [](Case& c) { replaceOnce(c.trText, ",12,mm", ",12,cm"); }, {"BAD_UNIT TR.csv:6"}},
        RuleCase{"BadTumstate",
                 [](Case& c) {
                     replaceOnce(c.trText, "PRESENT,,,,INDEPENDENT ASSESSOR,RADIOLOGIST 1,V,2",
                                 "GROWING,,,,INDEPENDENT ASSESSOR,RADIOLOGIST 1,V,2");
                 },
                 {"BAD_VALUE TR.csv:7"}},
        RuleCase{"BadTuorres", [](Case& c) { replaceOnce(c.tuText, "NON-TARGET", "NONTARGET"); }, {"BAD_VALUE TU.csv:4"}},
        RuleCase{"BadTrstat", [](Case& c) { replaceOnce(c.trText, ",12,mm,,", ",12,mm,DONE,"); }, {"BAD_VALUE TR.csv:6"}},
        RuleCase{"NodalTargetNeedsShortAxis", [](Case& c) { replaceOnce(c.trText, "SAXIS,12", "LDIAM,12"); }, {"TESTCD_MISMATCH TR.csv:6"}},
        RuleCase{"NonNodalTargetNeedsLongAxis",
                 [](Case& c) {
                     replaceOnce(c.trText, "LDIAM,20,mm,,,INDEPENDENT ASSESSOR,RADIOLOGIST 1,V,2",
                                 "SAXIS,20,mm,,,INDEPENDENT ASSESSOR,RADIOLOGIST 1,V,2");
                 },
                 {"TESTCD_MISMATCH TR.csv:5"}},
        RuleCase{"NonTargetNeedsTumstate",
                 [](Case& c) {
                     replaceOnce(c.trText, "TUMSTATE,PRESENT,,,,INDEPENDENT ASSESSOR,RADIOLOGIST 1,V,2",
                                 "LDIAM,PRESENT,,,,INDEPENDENT ASSESSOR,RADIOLOGIST 1,V,2");
                 },
                 {"TESTCD_MISMATCH TR.csv:7"}},
        RuleCase{"UnknownLesion", [](Case& c) { c.trText += tr("T09", "LDIAM", "20", "2", "2024-03-11"); }, {"UNKNOWN_LESION TR.csv:8"}},
        RuleCase{"UnknownSubjectInTr",
                 [](Case& c) { c.trText += tr("T01", "LDIAM", "20", "2", "2024-03-11", "mm", "", "", "S9"); },
                 {"UNKNOWN_SUBJECT TR.csv:8"}},
        RuleCase{"UnknownSubjectInTu",
                 [](Case& c) { c.tuText += tu("T01", "TARGET", "LIVER", "1", "2024-01-10", "S9"); },
                 {"UNKNOWN_SUBJECT TU.csv:5"}},
        RuleCase{"DuplicateMeasurement",
                 [](Case& c) { c.trText += tr("T01", "LDIAM", "21", "2", "2024-03-11"); },
                 {"DUPLICATE_RECORD TR.csv:8"}},
        RuleCase{"DuplicateLesion", [](Case& c) { c.tuText += tu("T01", "TARGET", "LUNG"); }, {"DUPLICATE_RECORD TU.csv:5"}},
        RuleCase{"DuplicateSubject", [](Case& c) { c.subjText += "RELUTH,S1,2024-01-15,\n"; }, {"DUPLICATE_RECORD SUBJ.csv:3"}},
        RuleCase{"NodeNotMeasurable", [](Case& c) { replaceOnce(c.trText, "SAXIS,20", "SAXIS,14.9"); }, {"TGT_NOT_MEASURABLE TR.csv:3"}},
        RuleCase{"TooSmallAtBaseline",
                 [](Case& c) { replaceOnce(c.trText, "LDIAM,30,mm", "LDIAM,TOO SMALL TO MEASURE,mm"); },
                 {"TGT_NOT_MEASURABLE TR.csv:2"}},
        RuleCase{"EveryBadRowIsReported",
                 [](Case& c) {
                     replaceOnce(c.trText, ",12,mm", ",12,cm");
                     replaceOnce(c.trText, "2024-03-11", "2024-03-32");
                 },
                 {"BAD_DATE TR.csv:5", "BAD_UNIT TR.csv:6"}}),
    [](const ::testing::TestParamInfo<RuleCase>& info) { return std::string(info.param.name); });

TEST(Sdtm, MaxTargetsReportsTheSixthTuRow) {
    Case c;
    c.tuText = kTuHeader;
    c.trText = kTrHeader;
    const char* organs[] = {"LIVER", "LUNG", "BONE", "ADRENAL", "SPLEEN", "KIDNEY"};
    for (int i = 1; i <= 6; ++i) {
        const std::string id = "T0" + std::to_string(i);
        c.tuText += tu(id, "TARGET", organs[i - 1]);
        c.trText += tr(id, "LDIAM", "20", "1", "2024-01-10");
    }
    EXPECT_EQ(c.errors(), (std::vector<std::string>{"TGT_MAX_TOTAL TU.csv:7"}));
}

TEST(Sdtm, ConfigNeedsAllFiveKeys) {
    Case c;
    c.configText = R"({"confirmation_required": false, "confirmation_min_days": 28})";
    const auto errors = c.errors();
    EXPECT_EQ(std::count_if(errors.begin(), errors.end(), [](const std::string& e) { return e.rfind("BAD_CONFIG", 0) == 0; }), 3);
    c.configText = R"({"confirmation_required": "yes", "confirmation_min_days": 28, "sd_min_days_from_baseline": 42,
 "dcr_landmark_days": 183, "dcr_window_days": -1})";
    EXPECT_EQ(c.errors().size(), 2u);
}

TEST(Sdtm, ErrorLinesCountPhysicalLinesWithQuotedBreaks) {
    Case c;
    c.trText = kTrHeader + "RELUTH,S1,T01,LDIAM,30,mm,,\"two\nlines\",INDEPENDENT ASSESSOR,RADIOLOGIST 1,V,1,2024-01-10\n" +
               tr("T02", "SAXIS", "20", "1", "2024-01-10") + tr("NT01", "TUMSTATE", "PRESENT", "1", "2024-01-10", "") +
               tr("T01", "LDIAM", "20", "2", "bad");
    EXPECT_EQ(c.errors(), (std::vector<std::string>{"BAD_DATE TR.csv:6"}));
}

TEST(Sdtm, NotDoneRowsMayLackADate) {
    Case c;
    replaceOnce(c.trText, "T02,SAXIS,12,mm,,,INDEPENDENT ASSESSOR,RADIOLOGIST 1,V,2,2024-03-11",
                "T02,SAXIS,,,NOT DONE,SCAN NOT PERFORMED,INDEPENDENT ASSESSOR,RADIOLOGIST 1,V,2,");
    const auto in = c.parse();
    ASSERT_TRUE(in.errors.empty()) << in.errors.front().format();
    EXPECT_EQ(rs(in).at("2/TRGRESP"), "NE|2024-03-11");
}

TEST(Sdtm, ExplainGivesOneLinePerResult) {
    Case c;
    const auto in = c.parse();
    std::vector<recist::SubjectResult> results;
    for (const auto& r : in.reads) results.push_back(recist::evaluate(r, in.options));
    const std::string text = recist::sdtm::explain(results);
    EXPECT_NE(text.find("PR: SOD 32.0 mm is -36.0 % from the baseline 50.0 mm"), std::string::npos) << text;
    EXPECT_NE(text.find("best overall response PR"), std::string::npos);
}
