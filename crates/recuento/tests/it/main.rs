//! Integration tests of the `recuento` command: the real binary on real files.

mod util;

mod broken_input;
mod commands;
mod pipeline;
