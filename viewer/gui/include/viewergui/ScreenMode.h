#pragma once
// The workstation's screen as an explicit state machine: which screen is up, and which screens
// each role may have. The window asks it before switching; a switch the role may not make
// (a reader to the dashboard, anyone but a signed-in user to a trial screen) is refused and
// nothing changes. No Qt: tested on its own.
#include "workflow/Workflow.h"

#include <optional>
#include <string_view>

namespace vg {

enum class Screen {
    SignedOut,    ///< a trial's workstation with nobody signed in: nothing of the trial
    Images,       ///< the comparison view (browsing; a plain viewer without a queue)
    Reading,      ///< a reader's read open beside its timepoint's images
    Adjudication, ///< an adjudicator's case: both reads over the images
    Dashboard,    ///< the trial manager's backlog, turnaround, agreement and endpoints
    Quarantine,   ///< the data manager's quarantined files
};

constexpr std::string_view screenName(Screen s) {
    switch (s) {
    case Screen::SignedOut: return "signed-out";
    case Screen::Images: return "images";
    case Screen::Reading: return "reading";
    case Screen::Adjudication: return "adjudication";
    case Screen::Dashboard: return "dashboard";
    case Screen::Quarantine: return "quarantine";
    }
    return "?";
}

class ScreenMode {
public:
    using Role = std::optional<workflow::Role>; ///< empty: nobody signed in

    /// Whether a session of `role` may have screen `s`. hasQueue: the workstation belongs to a
    /// trial's reading queue (without one it is a plain viewer: images only).
    static constexpr bool allowed(Screen s, Role role, bool hasQueue) {
        if (!role) return hasQueue ? s == Screen::SignedOut : s == Screen::Images;
        if (s == Screen::SignedOut || s == Screen::Images) return true;
        switch (*role) {
        case workflow::Role::Reader: return s == Screen::Reading;
        case workflow::Role::Adjudicator: return s == Screen::Adjudication;
        case workflow::Role::Manager:
        case workflow::Role::Administrator: return s == Screen::Dashboard;
        case workflow::Role::DataManager: return s == Screen::Quarantine;
        }
        return false;
    }
    /// Where a session starts: a manager on the dashboard, a data manager on the quarantine,
    /// readers and adjudicators on the images (their home list beside them).
    static constexpr Screen home(Role role, bool hasQueue) {
        if (!role) return hasQueue ? Screen::SignedOut : Screen::Images;
        if (*role == workflow::Role::Manager || *role == workflow::Role::Administrator) return Screen::Dashboard;
        if (*role == workflow::Role::DataManager) return Screen::Quarantine;
        return Screen::Images;
    }

    Screen current() const { return current_; }
    /// Moves to `to`; false (and nothing changes) when the role may not have it.
    bool enter(Screen to, Role role, bool hasQueue) {
        if (!allowed(to, role, hasQueue)) return false;
        current_ = to;
        return true;
    }

private:
    Screen current_ = Screen::Images;
};

} // namespace vg
