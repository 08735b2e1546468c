// The folder import: find every input, gather series verdicts, de-identify with N jobs.
#include "Dicom.h"

#include <dcmtk/dcmdata/dcdicdir.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

namespace anon {

namespace fs = std::filesystem;

InputSet findInputs(const fs::path& root) {
    InputSet set;
    std::set<fs::path> seen;
    std::error_code ec;
    if (fs::is_regular_file(root, ec)) {
        set.files.push_back(root);
        return set;
    }
    if (!fs::is_directory(root, ec)) throw Error(root.string() + ": no such folder");
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (!it->is_regular_file(ec)) continue;
        const fs::path p = it->path();
        std::string name = p.filename().string();
        std::transform(name.begin(), name.end(), name.begin(), ::toupper);
        if (name == "DICOMDIR") {
            set.dicomdirs.push_back(p);
            continue;
        }
        if (seen.insert(p.lexically_normal()).second) set.files.push_back(p);
    }
    // Files a DICOMDIR references (ReferencedFileID is relative to the DICOMDIR's folder).
    detail::silenceDcmtk();
    for (const fs::path& dd : set.dicomdirs) {
        DcmFileFormat ff;
        if (ff.loadFile(dd.c_str()).bad()) continue;
        DcmSequenceOfItems* records = nullptr;
        if (ff.getDataset()->findAndGetSequence(DCM_DirectoryRecordSequence, records).bad() || !records) continue;
        for (unsigned long i = 0; i < records->card(); ++i) {
            OFString id;
            if (records->getItem(i)->findAndGetOFStringArray(DCM_ReferencedFileID, id).bad() || id.empty()) continue;
            std::string rel(id.c_str());
            std::replace(rel.begin(), rel.end(), '\\', '/');
            const fs::path p = dd.parent_path() / rel;
            if (!fs::is_regular_file(p, ec)) {
                set.missingReferences.push_back(dd.string() + " references missing " + rel);
                continue;
            }
            if (seen.insert(p.lexically_normal()).second) set.files.push_back(p);
        }
    }
    std::sort(set.files.begin(), set.files.end());
    return set;
}

RunSummary runImport(Anonymizer& anon, const fs::path& inArg, int jobs,
                     const std::function<void(const RunSummary&, std::size_t)>& progress) {
    const auto t0 = std::chrono::steady_clock::now();
    const fs::path in = fs::absolute(inArg).lexically_normal();
    Anonymizer::removeStaleTemporaries(anon.config().store);
    const InputSet inputs = findInputs(in);
    const std::size_t n = inputs.files.size();
    jobs = std::max(1, jobs);
    SeriesVerdicts verdicts;
    RunSummary sum;
    sum.filesIn = n;
    sum.missingReferences = inputs.missingReferences;

    // One pass: an instance that reveals the arm condemns its series, and whatever of the series
    // other jobs already stored is retracted to quarantine (Anonymizer::retractSeries).
    std::mutex sumMutex;
    // Jobs take whole input folders (a series, usually): two jobs creating files in the same
    // output folder contend for its lock.
    std::vector<std::pair<std::size_t, std::size_t>> groups; // [begin, end) in inputs.files
    for (std::size_t i = 0; i < n;) {
        std::size_t j = i + 1;
        while (j < n && inputs.files[j].parent_path() == inputs.files[i].parent_path()) ++j;
        groups.emplace_back(i, j);
        i = j;
    }
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> pool;
    const fs::path base = fs::is_directory(in) ? in : in.parent_path();
    auto lastReport = std::chrono::steady_clock::now();
    auto account = [&](const FileResult& r) {
        anon.audit(r);
        std::lock_guard<std::mutex> lock(sumMutex);
        sum.bytesIn += r.bytes;
        if (r.outcome == Outcome::Stored) {
            ++sum.stored;
        } else {
            ++sum.quarantined;
            ++sum.quarantinedByCategory[r.reasons.empty() ? "unknown" : r.reasons.front().category];
        }
        const auto now = std::chrono::steady_clock::now();
        if (progress && (now - lastReport > std::chrono::milliseconds(200) || sum.stored + sum.quarantined == n)) {
            lastReport = now;
            progress(sum, n);
        }
    };
    constexpr std::size_t kBatchFiles = 64;
    constexpr std::uint64_t kBatchBytes = 64u << 20;
    for (int j = 0; j < jobs; ++j) {
        pool.emplace_back([&] {
            std::vector<FileResult> pending;
            std::uint64_t pendingBytes = 0;
            auto flush = [&] {
                anon.commit(pending, verdicts);
                for (const FileResult& r : pending) account(r);
                pending.clear();
                pendingBytes = 0;
            };
            for (std::size_t g; (g = next.fetch_add(1)) < groups.size();) {
                for (std::size_t i = groups[g].first; i < groups[g].second; ++i) {
                    const fs::path& f = inputs.files[i];
                    fs::path rel = f.lexically_relative(base); // both absolute and normal: no syscalls
                    if (rel.empty() || *rel.begin() == "..") rel = f.filename();
                    FileResult r = anon.process(f, rel, verdicts);
                    if (r.outcome != Outcome::Pending) {
                        account(r);
                        continue;
                    }
                    pendingBytes += r.bytes;
                    pending.push_back(std::move(r));
                    if (pending.size() >= kBatchFiles || pendingBytes >= kBatchBytes) flush();
                }
            }
            flush();
        });
    }
    for (auto& t : pool) t.join();
    for (const auto& [category, n] : anon.retracted()) {
        sum.stored -= n;
        sum.quarantined += n;
        sum.quarantinedByCategory[category] += n;
    }
    // make the renames durable: one fsync per folder that received files
    std::set<fs::path> dirs;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(anon.config().store, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (it->is_directory()) dirs.insert(it->path());
    }
    dirs.insert(anon.config().store);
    for (const fs::path& d : dirs) {
        const int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            ::fsync(fd);
            ::close(fd);
        }
    }
    anon.key().save();
    sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return sum;
}

fs::path findAsset(const std::string& relative) {
    std::vector<fs::path> candidates;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        candidates.push_back(exe.parent_path() / "../../assets" / relative); // build/bin -> source
        candidates.push_back(exe.parent_path() / "../share/reluth/assets" / relative);
    }
#ifdef RELUTH_SOURCE_ASSETS
    candidates.push_back(fs::path(RELUTH_SOURCE_ASSETS) / relative);
#endif
    candidates.push_back(fs::path("assets") / relative);
    for (const auto& c : candidates) {
        if (fs::exists(c, ec)) return fs::weakly_canonical(c, ec);
    }
    throw Error("cannot find assets/" + relative);
}

} // namespace anon
