//! `hubwire reply CHANNEL`: a responder from the shell, like `nats reply`. It provides the
//! channel and answers each call with the request's own body (an echo), a fixed `--body`, or
//! what `--command` prints when run with the request on its stdin, or fails each with
//! `--error` (to see how a caller copes). Each request is printed as a JSON line on stdout.

use std::io::Write;
use std::process::{Command, Stdio};

use bytes::Bytes;
use hubwire_actors::spoke::{ProviderResult, Request, SubscribeOptions};
use hubwire_core::protocol::ErrorCode;
use hubwire_core::pubsub::Pattern;
use serde_json::json;

use super::{parse, printable, target, with_spoke, HubTarget};
use crate::call::{body_to_json, json_to_body};
use crate::{EXIT_OK, EXIT_REMOTE_ERROR, EXIT_USAGE};

/// Arguments of `hubwire reply`.
#[derive(Debug, clap::Args)]
pub struct ReplyArgs {
    /// The channel (or pattern) to answer calls on, such as svc/echo.
    pub channel: String,
    /// Answer every call with this JSON body (default: echo the request's body).
    #[arg(long, value_name = "JSON", conflicts_with = "command")]
    pub body: Option<String>,
    /// Answer each call with what this shell command prints; it gets the request's body on
    /// stdin (as JSON when the body is MessagePack), and printed JSON is sent as MessagePack,
    /// other output as text. A command that fails answers the caller with an error.
    #[arg(long, value_name = "CMD", conflicts_with = "error")]
    pub command: Option<String>,
    /// Answer every call with this error instead: a code's number (any) or name (unhandled,
    /// busy, ...), with --message as its message.
    #[arg(long, value_name = "CODE", value_parser = parse_code, conflicts_with = "body")]
    pub error: Option<ErrorCode>,
    /// The message of the --error answer.
    #[arg(
        long,
        value_name = "TEXT",
        requires = "error",
        default_value = "failed by hubwire reply --error"
    )]
    pub message: String,
    /// Share the calls with other responders in this queue group (each call goes to one).
    #[arg(long, value_name = "NAME")]
    pub group: Option<String>,
    /// Exit after answering this many calls (default: run until interrupted).
    #[arg(long)]
    pub count: Option<u64>,
    /// The hub and the time allowed.
    #[command(flatten)]
    pub hub: HubTarget,
}

/// How each call is answered.
#[derive(Debug, Clone)]
enum Answer {
    Echo,
    Fixed(Bytes),
    Command(String),
    Error(ErrorCode, String),
}

/// An error code by its number (any, known or not) or its name.
fn parse_code(text: &str) -> Result<ErrorCode, String> {
    if let Ok(n) = text.parse::<u16>() {
        return Ok(ErrorCode::from(n));
    }
    ErrorCode::ALL
        .into_iter()
        .find(|c| c.name() == text)
        .ok_or_else(|| {
            let names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.name()).collect();
            format!(
                "{text:?} is no error code: give a number or one of {}",
                names.join(", ")
            )
        })
}

impl Answer {
    async fn reply(&self, request: &Request) -> ProviderResult {
        match self {
            Answer::Echo => Ok(request.body.clone()),
            Answer::Fixed(body) => Ok(body.clone()),
            Answer::Error(code, message) => Err((*code, message.clone())),
            Answer::Command(command) => {
                let (command, body) = (command.clone(), request.body.clone());
                tokio::task::spawn_blocking(move || run_command(&command, &body))
                    .await
                    .map_err(|e| (ErrorCode::HandlerFailure, e.to_string()))?
            }
        }
    }
}

/// Runs `command` with `sh -c`, the request on its stdin; its stdout is the reply.
fn run_command(command: &str, body: &[u8]) -> ProviderResult {
    let failed = |what: String| (ErrorCode::HandlerFailure, what);
    let input = match body_to_json(body) {
        Ok(json) => json.into_bytes(),
        Err(_) => body.to_vec(),
    };
    let mut child = Command::new("sh")
        .args(["-c", command])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(format!("cannot run {command:?}: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input is not a failure.
        let _ = stdin.write_all(&input);
    }
    let output = child
        .wait_with_output()
        .map_err(|e| failed(format!("{command:?}: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(failed(format!(
            "{command:?} {}: {}",
            output.status,
            stderr.trim()
        )));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let text = text.strip_suffix('\n').unwrap_or(&text);
    Ok(json_to_body(text).unwrap_or_else(|_| Bytes::from(text.to_owned())))
}

/// Runs `hubwire reply`; returns the exit code.
pub fn reply(args: ReplyArgs) -> i32 {
    let prepared = (|| {
        let usage = |e: String| {
            eprintln!("hubwire reply: {e}");
            EXIT_USAGE
        };
        let (address, timeout, tls) = target(&args.hub).map_err(usage)?;
        let pattern: Pattern = parse("reply", "channel", &args.channel)?;
        let answer = match (&args.body, &args.command, args.error) {
            (_, _, Some(code)) => Answer::Error(code, args.message.clone()),
            (Some(json), _, None) => Answer::Fixed(json_to_body(json).map_err(usage)?),
            (None, Some(command), None) => Answer::Command(command.clone()),
            (None, None, None) => Answer::Echo,
        };
        Ok((address, timeout, tls, pattern, answer))
    })();
    let (address, timeout, tls, pattern, answer) = match prepared {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    with_spoke("reply", (address, timeout, tls), |spoke| async move {
        let (tx, mut answered) = tokio::sync::mpsc::unbounded_channel();
        let options = SubscribeOptions {
            group: args.group.clone(),
            ..SubscribeOptions::default()
        };
        let provided = spoke
            .provide_with(pattern.clone(), options, move |request: Request| {
                let (answer, tx) = (answer.clone(), tx.clone());
                async move {
                    let reply = answer.reply(&request).await;
                    let line = json!({
                        "channel": request.channel.to_string(),
                        "body": printable(&request.body),
                        "error": reply.as_ref().err().map(|(_, message)| message),
                    });
                    let _ = tx.send(line);
                    reply
                }
            })
            .await;
        if let Err(e) = provided {
            eprintln!("hubwire reply: {pattern}: {e}");
            return EXIT_REMOTE_ERROR;
        }
        let mut seen = 0;
        while args.count.is_none_or(|n| seen < n) {
            let next = tokio::select! {
                next = answered.recv() => next,
                _ = tokio::signal::ctrl_c() => break,
            };
            let Some(line) = next else { break };
            if writeln!(std::io::stdout(), "{line}").is_err() {
                break;
            }
            seen += 1;
        }
        EXIT_OK
    })
}
