//! Guards the dice example's queued route: `dice.roll_times` answers `{id}` at once, rolls
//! later, and parks invalid requests in its error queue at the first attempt.

mod support;

use std::time::{Duration, Instant};

use hubwire::prelude::*;
use hubwire::queue::QueueData;
use hubwire::standard::{ErrorEntry, QueueDataRoute, QueueInspect, QueueItem, QueueName};
use support::process::AppProcess;

#[derive(Debug, Serialize, Deserialize)]
struct RollTimes {
    sides: u32,
    how_many: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct Total {
    total: u64,
}

route!(DiceRollTimes = "dice.roll_times", RollTimes => Total);

const QUEUE: &str = "dice.roll_times";

async fn data(client: &Client) -> QueueData {
    let name = QueueName {
        queue: QUEUE.into(),
    };
    client.call::<QueueDataRoute>(&name).await.unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn roll_times_is_queued_and_parks_invalid_requests() {
    let dice = AppProcess::start("dice_server", &["--listen", "tcp://127.0.0.1:0"], &[], 1);
    let client = Client::new(dice.address("tcp"));
    // One-sided dice always roll the maximum: these succeed.
    for _ in 0..3 {
        let roll = RollTimes {
            sides: 1,
            how_many: 5,
        };
        client.call::<Enqueue<DiceRollTimes>>(&roll).await.unwrap();
    }
    let bad = RollTimes {
        sides: 0,
        how_many: 5,
    };
    let bad = client
        .call::<Enqueue<DiceRollTimes>>(&bad)
        .await
        .unwrap()
        .id;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let figures = data(&client).await;
        if figures.processed == 3 && figures.errors == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "{figures:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let item = QueueItem {
        queue: QUEUE.into(),
        id: bad,
    };
    let parked: ErrorEntry = client.call::<QueueInspect>(&item).await.unwrap();
    assert_eq!(parked.attempts, 1, "invalid input is not retried");
    assert!(parked.errors[0]
        .message
        .contains("sides must be at least 1"));
}
