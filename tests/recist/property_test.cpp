// Properties over generated random reads (seeded, so failures reproduce).
#include "ReadBuilder.h"
#include "recist/Sdtm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

using recist::Response;

namespace {

constexpr int kReads = 400;

/// A random valid read: 1-5 targets (<= 2 per organ), 0-3 non-targets, 2-8 follow-ups with
/// shrinking, growing, missing, too-small and vanished targets, non-target states and the
/// odd new lesion.
recist::Read randomRead(std::mt19937& rng) {
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    testutil::ReadBuilder b("2024-01-15");
    const char* organs[] = {"LIVER", "LUNG", "LYMPH NODE", "ADRENAL", "PERITONEUM"};
    const int targets = pick(1, 5), nonTargets = pick(0, 3), followups = pick(2, 8);
    std::vector<std::pair<std::string, std::string>> base;
    std::vector<int> sizes;
    for (int i = 0; i < targets; ++i) {
        const std::string id = "T0" + std::to_string(i + 1);
        const std::string organ = organs[i % 5];
        b.target(id, organ);
        const int tenths = organ == std::string("LYMPH NODE") ? pick(150, 400) : pick(100, 600);
        sizes.push_back(tenths);
        base.push_back({id, std::to_string(tenths / 10) + "." + std::to_string(tenths % 10)});
    }
    for (int i = 0; i < nonTargets; ++i) {
        b.nonTarget("NT0" + std::to_string(i + 1), organs[(i + 2) % 5]);
        base.push_back({"NT0" + std::to_string(i + 1), "PRESENT"});
    }
    b.visit(1, "2024-01-10", base);
    const bool withNew = pick(0, 3) == 0;
    const int newAt = pick(2, followups + 1);
    if (withNew) b.newLesion("NEW01", newAt, testutil::date("2024-01-15").plusDays(56 * (newAt - 1)).iso());
    for (int k = 1; k <= followups; ++k) {
        std::vector<std::pair<std::string, std::string>> values;
        for (int i = 0; i < targets; ++i) {
            const int roll = pick(0, 19);
            std::string v;
            if (roll == 0)
                v = "ND";
            else if (roll == 1)
                v = "TSTM";
            else if (roll == 2)
                v = "0";
            else {
                const int t = std::max(0, sizes[static_cast<std::size_t>(i)] * pick(40, 150) / 100);
                v = std::to_string(t / 10) + "." + std::to_string(t % 10);
            }
            if (roll == 3) continue; // no row at all
            values.push_back({"T0" + std::to_string(i + 1), v});
        }
        const char* ntStates[] = {"PRESENT", "PRESENT", "PRESENT", "ABSENT", "NE", "UNEQ"};
        for (int i = 0; i < nonTargets; ++i) values.push_back({"NT0" + std::to_string(i + 1), ntStates[pick(0, 5)]});
        if (withNew && k + 1 >= newAt) values.push_back({"NEW01", pick(0, 2) == 0 ? "EQ" : (pick(0, 1) ? "UNEQ" : "ABSENT")});
        b.visit(k + 1, testutil::date("2024-01-15").plusDays(56 * k + pick(-5, 5)).iso(), values);
    }
    return b.read();
}

bool sameResult(const recist::SubjectResult& a, const recist::SubjectResult& b) {
    if (a.visits.size() != b.visits.size() || a.best != b.best || a.progression != b.progression || a.diseaseControl != b.diseaseControl)
        return false;
    for (std::size_t i = 0; i < a.visits.size(); ++i) {
        const auto &x = a.visits[i], &y = b.visits[i];
        if (x.number != y.number || x.sum != y.sum || x.target != y.target || x.nonTarget != y.nonTarget || x.newLesion != y.newLesion ||
            x.overall != y.overall || x.overallReason != y.overallReason)
            return false;
    }
    return true;
}

} // namespace

TEST(Properties, GeneratedReadsAreValidBaselines) {
    std::mt19937 rng(1);
    for (int i = 0; i < kReads; ++i) {
        const auto read = randomRead(rng);
        EXPECT_TRUE(recist::validateBaseline(read).empty());
    }
}

TEST(Properties, ShrinkingATargetNeverMovesAResponseAwayFromCrOrPr) {
    std::mt19937 rng(2);
    int checked = 0;
    for (int i = 0; i < kReads; ++i) {
        recist::Read read = randomRead(rng);
        const auto before = recist::evaluate(read, {});
        for (std::size_t v = 1; v < before.visits.size(); ++v) {
            if (before.visits[v].target != Response::CR && before.visits[v].target != Response::PR) continue;
            recist::Read shrunk = read;
            for (auto& visit : shrunk.visits) {
                if (visit.number != before.visits[v].number) continue;
                for (auto& [id, a] : visit.assessments) {
                    if (a.kind == recist::Assessment::Kind::Measured && id[0] == 'T') a.value.um = a.value.um / 2;
                }
            }
            const auto after = recist::evaluate(shrunk, {});
            EXPECT_TRUE(after.visits[v].target == Response::CR || after.visits[v].target == Response::PR) << after.visits[v].targetReason;
            ++checked;
        }
    }
    EXPECT_GT(checked, 50);
}

TEST(Properties, AnUnequivocalNewLesionIsAlwaysProgression) {
    std::mt19937 rng(3);
    for (int i = 0; i < kReads; ++i) {
        recist::Read read = randomRead(rng);
        const auto before = recist::evaluate(read, {});
        const std::size_t v = 1 + rng() % (before.visits.size() - 1);
        recist::Lesion l;
        l.id = "NEWX";
        l.role = recist::LesionRole::New;
        l.location = "BONE";
        l.identifiedAt = before.visits[v].number;
        read.lesions.push_back(l);
        for (auto& visit : read.visits) {
            if (visit.number == before.visits[v].number) {
                recist::Assessment a;
                a.kind = recist::Assessment::Kind::Unequivocal;
                a.date = before.visits[v].date;
                visit.set("NEWX", a);
            }
        }
        const auto after = recist::evaluate(read, {});
        EXPECT_EQ(after.visits[v].overall, Response::PD);
        EXPECT_TRUE(after.progression.has_value());
    }
}

TEST(Properties, OverallIsProgressionExactlyWhenAComponentIs) {
    std::mt19937 rng(4);
    for (int i = 0; i < kReads; ++i) {
        const auto r = recist::evaluate(randomRead(rng), {});
        for (std::size_t v = 1; v < r.visits.size(); ++v) {
            const auto& x = r.visits[v];
            const bool component =
                x.target == Response::PD || x.nonTarget == Response::PD || x.newLesion == recist::NewLesionIndicator::Yes;
            EXPECT_EQ(x.overall == Response::PD, component) << x.overallReason;
        }
    }
}

TEST(Properties, BestResponseNeverBeatsEveryTimepoint) {
    std::mt19937 rng(5);
    auto rank = [](Response r) {
        switch (r) {
        case Response::CR: return 0;
        case Response::PR: return 1;
        case Response::SD:
        case Response::NonCRNonPD: return 2;
        case Response::PD: return 3;
        case Response::NE: return 4;
        }
        return 5;
    };
    for (int i = 0; i < kReads; ++i) {
        for (bool confirmation : {false, true}) {
            recist::Options o;
            o.confirmationRequired = confirmation;
            const auto r = recist::evaluate(randomRead(rng), o);
            int bestSeen = 5;
            for (std::size_t v = 1; v < r.visits.size(); ++v) bestSeen = std::min(bestSeen, rank(*r.visits[v].overall));
            if (r.best != Response::NE) {
                EXPECT_GE(rank(r.best), bestSeen) << r.bestReason;
            }
        }
    }
}

TEST(Properties, ResultDoesNotDependOnRecordOrder) {
    std::mt19937 rng(6);
    for (int i = 0; i < kReads; ++i) {
        recist::Read read = randomRead(rng);
        const auto a = recist::evaluate(read, {});
        std::shuffle(read.lesions.begin(), read.lesions.end(), rng);
        std::shuffle(read.visits.begin(), read.visits.end(), rng);
        const auto b = recist::evaluate(read, {});
        EXPECT_TRUE(sameResult(a, b));
    }
}

TEST(Properties, CsvRowOrderDoesNotMatter) {
    // The same data through the SDTM reader with shuffled TU and TR rows gives the same RS file.
    std::mt19937 rng(7);
    std::string tu = "STUDYID,USUBJID,TULNKID,TUORRES,TULOC,TUEVAL,TUEVALID,VISIT,VISITNUM,TUDTC\n";
    std::string tr = "STUDYID,USUBJID,TRLNKID,TRTESTCD,TRORRES,TRORRESU,TRSTAT,TRREASND,TREVAL,TREVALID,VISIT,VISITNUM,TRDTC\n";
    std::string subj = "STUDYID,USUBJID,RANDDT,DTHDT\n";
    std::vector<std::string> tuRows, trRows;
    for (int s = 0; s < 40; ++s) {
        const recist::Read read = randomRead(rng);
        const std::string id = "S" + std::to_string(s);
        subj += "RELUTH," + id + ",2024-01-15,\n";
        for (const auto& l : read.lesions) {
            const char* role = l.role == recist::LesionRole::Target      ? "TARGET"
                               : l.role == recist::LesionRole::NonTarget ? "NON-TARGET"
                                                                         : "NEW";
            tuRows.push_back("RELUTH," + id + "," + l.id + "," + role + "," + l.location + ",IA,R1,V," + l.identifiedAt.text() + "," +
                             (l.identifiedOn ? l.identifiedOn->iso() : "2024-01-10") + "\n");
        }
        for (const auto& v : read.visits) {
            for (const auto& [lid, a] : v.assessments) {
                const auto& l = *std::find_if(read.lesions.begin(), read.lesions.end(), [&](const auto& x) { return x.id == lid; });
                using K = recist::Assessment::Kind;
                std::string test = l.role != recist::LesionRole::Target ? "TUMSTATE" : l.nodal ? "SAXIS" : "LDIAM";
                std::string value, unit = l.role == recist::LesionRole::Target ? "mm" : "", stat;
                switch (a.kind) {
                case K::Measured: value = std::to_string(a.value.um / 1000) + "." + std::to_string(a.value.um % 1000); break;
                case K::TooSmall: value = "TOO SMALL TO MEASURE"; break;
                case K::NotDone:
                case K::Merged: stat = "NOT DONE"; break;
                case K::Present: value = "PRESENT"; break;
                case K::Absent: value = "ABSENT"; break;
                case K::Unequivocal: value = l.role == recist::LesionRole::New ? "UNEQUIVOCAL" : "UNEQUIVOCAL PROGRESSION"; break;
                case K::Equivocal: value = "EQUIVOCAL"; break;
                case K::NotEvaluable: value = "NOT EVALUABLE"; break;
                }
                trRows.push_back("RELUTH," + id + "," + lid + "," + test + "," + value + "," + unit + "," + stat + ",,IA,R1,V," +
                                 v.number.text() + "," + (a.date ? a.date->iso() : "") + "\n");
            }
        }
    }
    auto run = [&](const std::vector<std::string>& tuR, const std::vector<std::string>& trR) {
        std::string tuText = tu, trText = tr;
        for (const auto& r : tuR) tuText += r;
        for (const auto& r : trR) trText += r;
        recist::sdtm::Files f;
        f.tu = tuText;
        f.tr = trText;
        f.subj = subj;
        const std::string config =
            R"({"confirmation_required": false, "confirmation_min_days": 28, "sd_min_days_from_baseline": 42, "dcr_landmark_days": 183, "dcr_window_days": 28})";
        f.config = config;
        const auto in = recist::sdtm::parse(f);
        EXPECT_TRUE(in.errors.empty()) << (in.errors.empty() ? "" : in.errors.front().format());
        std::vector<recist::SubjectResult> results;
        for (const auto& r : in.reads) results.push_back(recist::evaluate(r, in.options));
        return recist::sdtm::writeRs(results);
    };
    const std::string expected = run(tuRows, trRows);
    for (int i = 0; i < 5; ++i) {
        std::shuffle(tuRows.begin(), tuRows.end(), rng);
        std::shuffle(trRows.begin(), trRows.end(), rng);
        EXPECT_EQ(run(tuRows, trRows), expected);
    }
}
