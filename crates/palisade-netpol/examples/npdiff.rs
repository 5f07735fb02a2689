fn main() {
    let args: Vec<String> = std::env::args().collect();
    let input = palisade_netpol::load_dir(std::path::Path::new(&args[1]));
    let mut opts = palisade_netpol::ListOptions::default();
    if let Some(f) = args.get(2) {
        opts.focus_workloads = vec![f.clone()];
    }
    if args.get(3).map(String::as_str) == Some("ingress") {
        opts.focus_direction = palisade_netpol::Direction::Ingress;
    }
    print!(
        "{}",
        palisade_netpol::render(
            &palisade_netpol::connlist(&input, &opts),
            palisade_netpol::Format::Txt
        )
    );
}
