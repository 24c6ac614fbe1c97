//! Environment variables: `HUBWIRE_<KEY>`, optionally scoped to an app and an instance.
//!
//! For key `max_frame`, app `dice` and instance `a`, the first of these that is set wins:
//! `HUBWIRE_MAX_FRAME_DICE_A`, `HUBWIRE_MAX_FRAME_DICE`, `HUBWIRE_MAX_FRAME`. The app name is
//! only known at run time, which is why this is a small layer of our own.

/// A name as it appears in a variable: upper case, anything but letters and digits as `_`.
pub fn scoped_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The variables that can set `key`, most specific first.
pub fn env_var_names(key: &str, app: &str, instance: &str) -> [String; 3] {
    let base = format!("HUBWIRE_{}", scoped_name(key));
    [
        format!("{base}_{}_{}", scoped_name(app), scoped_name(instance)),
        format!("{base}_{}", scoped_name(app)),
        base,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_specific_name_comes_first() {
        assert_eq!(
            env_var_names("max_frame", "dice-server", "a1"),
            [
                "HUBWIRE_MAX_FRAME_DICE_SERVER_A1".to_owned(),
                "HUBWIRE_MAX_FRAME_DICE_SERVER".to_owned(),
                "HUBWIRE_MAX_FRAME".to_owned()
            ]
        );
    }
}
