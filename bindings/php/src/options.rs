//! The option bit rules of libgearman 1.1.20 (observed through pecl): `setOptions()` and
//! `removeOptions()` change only some bits, and `setOptions()` / `addOptions()` can turn on a few
//! more; the rest keep their values.

pub struct OptionRules {
    pub removable: i64,
    pub settable: i64,
}

impl OptionRules {
    pub fn set(&self, current: i64, option: i64) -> i64 {
        (current & !self.removable) | (option & self.settable)
    }

    pub fn add(&self, current: i64, option: i64) -> i64 {
        current | (option & self.settable)
    }

    pub fn remove(&self, current: i64, option: i64) -> i64 {
        current & !(option & self.removable)
    }
}

pub const CLIENT: OptionRules = OptionRules {
    removable: 2 | 8 | 32 | 64,
    settable: 2 | 8 | 32 | 64 | 256,
};

pub const WORKER: OptionRules = OptionRules {
    removable: 2 | 128 | 256 | 512 | 2048,
    settable: 2 | 128 | 256 | 512 | 2048 | 1024,
};
