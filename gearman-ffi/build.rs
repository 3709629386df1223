// libgearman's soname, so programs linked against Debian's libgearman.so.8 can load ours.
fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libgearman.so.8");
}
