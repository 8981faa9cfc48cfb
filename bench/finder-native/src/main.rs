//! `finder-native <paths file> <limit> <runs> <query>...`: times the finder
//! example's own matching code, compiled natively, over the first `limit`
//! lines of the file; prints JSON `{ query: { ms: [...], matched, top } }`.

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, file, limit, runs, queries @ ..] = &args[..] else {
        return Err("usage: finder-native <paths file> <limit> <runs> <query>...".into());
    };
    let (limit, runs): (usize, usize) = (limit.parse()?, runs.parse()?);
    let text = std::fs::read(file)?;
    let mut corpus = finder::corpus::Corpus::default();
    let end = text.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(limit.saturating_sub(1)).map_or(text.len(), |(i, _)| i);
    corpus.add(&text[..end]);
    let mut out = Vec::new();
    for q in queries {
        let mut ms = Vec::new();
        let mut last = (0, Vec::new());
        for _ in 0..runs {
            let t = Instant::now();
            last = finder::best_of(&corpus, q, 10);
            ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let top: Vec<String> = last.1.iter().take(5).map(|(s, t)| format!("{{\"score\":{s},\"text\":{:?}}}", t)).collect();
        out.push(format!("{:?}:{{\"ms\":{:?},\"matched\":{},\"top\":[{}]}}", q, ms, last.0, top.join(",")));
    }
    println!("{{\"items\":{},{}}}", corpus.len(), out.join(","));
    Ok(())
}
