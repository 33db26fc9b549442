//! The committed header `include/rblkit.h` is what cbindgen makes of this crate.
//! Run with `RBLKIT_UPDATE_HEADER=1` to rewrite it.

use std::path::Path;

#[test]
fn header_is_up_to_date() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("ffi/cbindgen.toml reads");
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    let path = crate_dir.join("../include/rblkit.h");
    if std::env::var("RBLKIT_UPDATE_HEADER").as_deref() == Ok("1") {
        std::fs::write(&path, &fresh).expect("include/rblkit.h is writable");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/rblkit.h is not what cbindgen makes of ffi/src: regenerate it with \
         `RBLKIT_UPDATE_HEADER=1 cargo test -p rblkit-ffi --test header` and commit it"
    );
}
