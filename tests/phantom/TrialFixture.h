// A small phantom trial generated once per test process (tests run as separate processes
// under ctest, so each gets its own folder).
#pragma once

#include "../common/TempDir.h"
#include "phantom/Generator.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <memory>

namespace testutil {

struct SmallTrial {
    std::unique_ptr<TempDir> dir;
    phantom::GenerateResult result;
    nlohmann::json truth;

    /// 5 subjects (every scripted course), 3 timepoints, 48 slices of 5 mm.
    static phantom::Options options(const std::filesystem::path& out) {
        phantom::Options o;
        o.out = out;
        o.seed = 7;
        o.subjects = 5;
        o.timepoints = 3;
        o.slices = 48;
        o.sliceThicknessMm = 5.0;
        return o;
    }

    static const SmallTrial& get() {
        static const SmallTrial trial = [] {
            SmallTrial t;
            t.dir = std::make_unique<TempDir>("phantom-trial");
            t.result = phantom::generateTrial(options(t.dir->path()));
            std::ifstream in(t.dir->path() / "ground-truth.json");
            t.truth = nlohmann::json::parse(in);
            return t;
        }();
        return trial;
    }
    std::filesystem::path path() const { return dir->path(); }
};

} // namespace testutil
