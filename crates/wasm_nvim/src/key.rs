//! A loaded plugin's key: what callbacks, re-entrant calls, worker jobs
//! and the registrations a plugin made hold instead of the plugin itself.
//! A reload hands the key to the new code, so all of them reach it;
//! `setup()` gives every plugin a new one, so nothing reaches the old.

/// Unique per loaded plugin (until a reload passes it on).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PluginKey(pub u64);

impl std::fmt::Display for PluginKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}
