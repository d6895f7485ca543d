fn main() -> std::process::ExitCode {
    kilat_server::cli::main()
}
