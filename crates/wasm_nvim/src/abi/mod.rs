//! The host ABIs a plugin can be written against.

pub mod seed;
