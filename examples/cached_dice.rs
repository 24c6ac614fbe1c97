//! A handler that caches its replies: `dice.fortune` ({seed} -> {fortune}) takes 50 ms to read a
//! fortune, keeps each answer in a shared LRU cache, and answers repeats from it;
//! `dice.fortune_stats` answers with the cache's hits, misses, evictions and expirations.
//!
//! Run: `cargo run --example cached_dice` and call it with
//! `cargo run --bin hubwire -- call tcp://127.0.0.1:7420 dice.fortune '{"seed": 7}'`,
//! or `cargo run --example cached_dice -- --demo` to watch a few calls and stop.

use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use clap::Parser;
use hubwire::prelude::*;
use hubwire_actors::cache::{Cache, CacheStatsSnapshot};

/// Ask for the fortune of `seed`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Ask {
    pub seed: u64,
}

/// The fortune read for a seed (always the same for the same seed).
#[derive(Debug, Serialize, Deserialize)]
pub struct Fortune {
    pub fortune: String,
}

route!(pub DiceFortune = "dice.fortune", Ask => Fortune, idempotent = true);
route!(pub DiceFortuneStats = "dice.fortune_stats", () => CacheStatsSnapshot);

/// Where the server listens unless told otherwise.
const DEFAULT_ADDRESS: &str = "tcp://127.0.0.1:7420";
/// How long reading one fortune takes: the work the cache saves.
const READING_TIME: Duration = Duration::from_millis(50);

const OMENS: [&str; 6] = [
    "a stranger brings a loaded die",
    "the next roll favours the bold",
    "snake eyes, then a long winning streak",
    "a d20 lands on its edge",
    "you will reroll and regret it",
    "sixes come in threes",
];

/// One handler actor per route serves both; each holds a clone of the one cache handle.
struct FortuneTeller {
    cache: Cache<u64, String>,
}

impl Actor for FortuneTeller {
    type Context = Context<Self>;
}

impl Serve<DiceFortune> for FortuneTeller {
    fn serve(&mut self, ask: Ask, _: &mut Context<Self>) -> Reply<Fortune> {
        let seed = ask.seed;
        let cached = self.cache.get(seed);
        let cache = self.cache.clone();
        Reply::later(async move {
            let started = Instant::now();
            if let Some(fortune) = cached.await? {
                println!("dice.fortune {seed}: hit ({:?})", started.elapsed());
                return Ok(Fortune { fortune });
            }
            let fortune = read_fortune(seed).await;
            // `None`: the cache's default time-to-live.
            cache.put(seed, fortune.clone(), None).await?;
            println!("dice.fortune {seed}: miss ({:?})", started.elapsed());
            Ok(Fortune { fortune })
        })
    }
}

impl Serve<DiceFortuneStats> for FortuneTeller {
    fn serve(&mut self, _: (), _: &mut Context<Self>) -> Reply<CacheStatsSnapshot> {
        let stats = self.cache.stats();
        Reply::later(async move { Ok(stats.await?) })
    }
}

serve!(FortuneTeller: DiceFortune, DiceFortuneStats);

/// The slow part: waits [`READING_TIME`] (without blocking the thread), then derives the fortune
/// from the seed alone.
async fn read_fortune(seed: u64) -> String {
    tokio::time::sleep(READING_TIME).await;
    let mixed = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
    let omen = OMENS[(mixed % OMENS.len() as u64) as usize];
    let face = (mixed >> 32) % 6 + 1;
    format!("{omen}; lucky face: {face}")
}

#[derive(Parser)]
struct Args {
    /// Where to listen (repeatable): tcp://HOST:PORT, udp://HOST:PORT or unix:///PATH.
    #[arg(long, default_value = DEFAULT_ADDRESS)]
    listen: Vec<Address>,
    /// The most fortunes kept; the least recently used goes first.
    #[arg(long, default_value_t = NonZeroUsize::new(1024).unwrap())]
    capacity: NonZeroUsize,
    /// How long a fortune is kept, in seconds.
    #[arg(long, default_value_t = 300)]
    ttl_secs: u64,
    /// Call the server a few times, print what the cache saved, and stop.
    #[arg(long)]
    demo: bool,
}

#[actix::main]
async fn main() {
    let args = Args::parse();
    // Started on the main arbiter; the handlers run on I/O threads and reach it by messages.
    let cache = Cache::start(args.capacity, Some(Duration::from_secs(args.ttl_secs)));
    let config = Config {
        listen: args.listen,
        ..Config::default()
    };
    let (fortunes, stats) = (cache.clone(), cache);
    let server = Server::builder(config)
        .route(DiceFortune, move || FortuneTeller {
            cache: fortunes.clone(),
        })
        .route(DiceFortuneStats, move || FortuneTeller {
            cache: stats.clone(),
        })
        .start()
        .await
        .unwrap_or_else(|e| {
            eprintln!("cached_dice: {e}");
            std::process::exit(1);
        });
    for address in server.addresses() {
        println!("cached_dice listening on {address}");
    }
    if args.demo {
        if let Err(e) = demo(server.addresses()[0].clone()).await {
            eprintln!("cached_dice: {e}");
        }
    } else {
        let _ = tokio::signal::ctrl_c().await;
    }
    server.stop();
}

/// Asks for three seeds, repeating one, and prints each answer's time and the cache's counters.
async fn demo(address: Address) -> Result<(), CallError> {
    let client = Client::new(address);
    for seed in [7, 7, 42, 7, 42] {
        let started = Instant::now();
        let answer = client.call::<DiceFortune>(&Ask { seed }).await?;
        let took = started.elapsed();
        println!("seed {seed:>2} -> {} ({took:.1?})", answer.fortune);
    }
    let stats = client.call::<DiceFortuneStats>(&()).await?;
    println!(
        "cache: {} hits, {} misses, {} of {} entries",
        stats.counters.hits, stats.counters.misses, stats.len, stats.capacity
    );
    Ok(())
}
