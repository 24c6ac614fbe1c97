use super::*;

#[test]
fn the_first_lone_message_finds_its_subscriber_quiet() {
    assert!(LoneClock::default().quiet(Instant::now()));
}

#[test]
fn lone_messages_in_quick_succession_find_it_busy_until_it_has_been_quiet_a_while() {
    let start = Instant::now();
    let mut clock = LoneClock::default();
    assert!(clock.quiet(start));
    assert!(!clock.quiet(start + BUSY_WITHIN / 2));
    // Measured from the last lone message, not the first.
    assert!(!clock.quiet(start + BUSY_WITHIN));
    assert!(clock.quiet(start + BUSY_WITHIN * 3));
}
