// SPDX-License-Identifier: GPL-2.0

//! KUnit suites written in Rust.
//!
//! The 6.12 `kernel` crate has KUnit's assertion macros but no way to
//! declare a suite.  [`kunit_suite!`] declares one the way C's
//! `kunit_test_suite()` does: a `kunit_suite` whose address sits in the
//! module's `.kunit_test_suites` section, so KUnit runs it when the
//! module is loaded and reports KTAP in the kernel log.

use kernel::bindings;

/// A test case running the safe function `f`, wrapped by [`kunit_suite!`].
#[doc(hidden)]
pub(crate) const fn case(
    name: &'static kernel::str::CStr,
    run: unsafe extern "C" fn(*mut bindings::kunit),
) -> bindings::kunit_case {
    // SAFETY: All-zero is a valid `kunit_case` (no callbacks, no parameters), the value the
    // C macro `KUNIT_CASE` leaves every field it does not name at.
    let mut c: bindings::kunit_case = unsafe { core::mem::zeroed() };
    c.run_case = Some(run);
    c.name = name.as_char_ptr();
    c
}

/// The zero terminator of a case array.
#[doc(hidden)]
pub(crate) const END: bindings::kunit_case = {
    // SAFETY: All-zero is the terminator KUnit expects.
    unsafe { core::mem::zeroed() }
};

/// A suite named `name` over `cases`; a `slow` one carries KUnit's
/// `speed=slow` attribute, which `kunit.filter` selects on.
#[doc(hidden)]
pub(crate) const fn suite(name: &[u8], cases: *mut bindings::kunit_case, slow: bool) -> bindings::kunit_suite {
    // SAFETY: All-zero is a valid `kunit_suite` (no init/exit callbacks).
    let mut s: bindings::kunit_suite = unsafe { core::mem::zeroed() };
    let mut i = 0;
    // Leave the last octet zero: the name is a C string.
    while i < name.len() && i < s.name.len() - 1 {
        s.name[i] = name[i] as _;
        i += 1;
    }
    s.test_cases = cases;
    if slow {
        s.attr.speed = bindings::kunit_speed_KUNIT_SPEED_SLOW;
    }
    s
}

/// Declares a KUnit suite of safe test functions `fn()`.
///
/// Assertions inside use `kernel::kunit_assert!`/`kunit_assert_eq!`.
/// `kunit_suite!(slow "name", [...])` marks the suite `speed=slow`.
#[macro_export]
macro_rules! kunit_suite {
    ($name:literal, [$($case:ident),+ $(,)?]) => {
        $crate::kunit_suite!(@ $name, false, [$($case),+]);
    };
    (slow $name:literal, [$($case:ident),+ $(,)?]) => {
        $crate::kunit_suite!(@ $name, true, [$($case),+]);
    };
    (@ $name:literal, $slow:literal, [$($case:ident),+]) => {
        const _: () = {
            use $crate::kext::kunit::{case, suite, END};
            use kernel::bindings;

            // Items of a module declared in a block have the enclosing module as parent, so
            // `super::$case` is the test function.
            mod cases {
                $(
                    pub(super) unsafe extern "C" fn $case(_test: *mut kernel::bindings::kunit) {
                        super::$case();
                    }
                )+
            }

            const N: usize = [$(stringify!($case)),+].len() + 1;
            static mut CASES: [bindings::kunit_case; N] =
                [$(case(kernel::c_str!(stringify!($case)), cases::$case),)+ END];
            static mut SUITE: bindings::kunit_suite =
                suite($name.as_bytes(), core::ptr::addr_of_mut!(CASES).cast(), $slow);
            // KUnit finds the suite through this section when the module loads.
            #[used]
            #[link_section = ".kunit_test_suites"]
            static mut SUITE_PTR: *mut bindings::kunit_suite = core::ptr::addr_of_mut!(SUITE);
        };
    };
}
