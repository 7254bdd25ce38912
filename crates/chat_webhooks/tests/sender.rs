//! `AwcSender` against a real receiver on 127.0.0.1: a tokio listener speaking just enough
//! HTTP/1.1 to read one request and answer it as each test asks.

use std::sync::Arc;
use std::time::Duration;

use chat_app::ports::{Outgoing, WebhookSender};
use chat_domain::{Problem, WebhookUrl};
use chat_webhooks::{AwcSender, SenderOptions, USER_AGENT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// How the receiver answers.
#[derive(Clone, Copy)]
enum Answer {
    Status(u16),
    Redirect,
    Slow,
    Huge,
}

/// One request as the receiver read it.
#[derive(Debug)]
struct Received {
    head: String,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// A receiver on 127.0.0.1; every request it reads arrives on the channel.
async fn receiver(answer: Answer) -> (u16, mpsc::UnboundedReceiver<Received>) {
    let listener = ok(TcpListener::bind("127.0.0.1:0").await);
    let port = ok(listener.local_addr()).port();
    let (seen, requests) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(serve(stream, answer, port, seen));
        }
    });
    (port, requests)
}

async fn serve(
    mut stream: TcpStream,
    answer: Answer,
    port: u16,
    seen: mpsc::UnboundedSender<Received>,
) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut received = Received {
        head,
        body: buffer[head_end..].to_vec(),
    };
    let length: usize = received
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while received.body.len() < length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => received.body.extend_from_slice(&chunk[..n]),
        }
    }
    let _ = seen.send(received);
    let reply = match answer {
        Answer::Status(code) => {
            format!("HTTP/1.1 {code} Whatever\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        }
        Answer::Redirect => format!(
            "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{port}/elsewhere\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        ),
        Answer::Slow => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            return;
        }
        Answer::Huge => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n")
                .await;
            let block = vec![b'x'; 64 * 1024];
            for _ in 0..1600 {
                if stream.write_all(&block).await.is_err() {
                    return;
                }
            }
            return;
        }
    };
    let _ = stream.write_all(reply.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn ok<T, E: std::fmt::Debug>(result: Result<T, E>) -> T {
    match result {
        Ok(value) => value,
        Err(error) => panic!("{error:?}"),
    }
}

fn url(text: &str) -> WebhookUrl {
    ok(WebhookUrl::parse(text))
}

fn outgoing(port: u16) -> Outgoing {
    Outgoing {
        url: url(&format!("http://127.0.0.1:{port}/hooks/in?x=1")),
        headers: vec![
            ("X-Custom".into(), "yes".into()),
            ("Content-Type".into(), "application/json".into()),
            ("X-ChatAPI-Event".into(), "webhook.test".into()),
        ],
        body: br#"{"event":"webhook.test"}"#.to_vec(),
    }
}

fn local_sender() -> AwcSender {
    AwcSender::new(true)
}

#[tokio::test]
async fn a_200_is_a_success_and_the_request_is_as_sent() {
    let (port, mut requests) = receiver(Answer::Status(200)).await;
    let response = local_sender().post(outgoing(port)).await;
    assert_eq!(response.status, Some(200), "{response:?}");
    assert_eq!(response.error, None);
    assert!(response.is_success());
    let received = ok(requests.try_recv());
    assert!(
        received.head.starts_with("POST /hooks/in?x=1 HTTP/1.1\r\n"),
        "{}",
        received.head
    );
    assert_eq!(
        received.header("host"),
        Some(format!("127.0.0.1:{port}").as_str())
    );
    assert_eq!(received.header("user-agent"), Some(USER_AGENT));
    assert!(USER_AGENT.starts_with("chat-rooms-webhooks/"));
    assert_eq!(received.header("x-custom"), Some("yes"));
    assert_eq!(received.header("content-type"), Some("application/json"));
    assert_eq!(received.header("x-chatapi-event"), Some("webhook.test"));
    assert_eq!(received.body, br#"{"event":"webhook.test"}"#);
}

#[tokio::test]
async fn a_500_is_a_failure_with_its_status() {
    let (port, _requests) = receiver(Answer::Status(500)).await;
    let response = local_sender().post(outgoing(port)).await;
    assert_eq!(response.status, Some(500));
    assert!(!response.is_success());
    assert!(
        response.error.as_deref().is_some_and(|e| e.contains("500")),
        "{response:?}"
    );
}

#[tokio::test]
async fn a_302_is_not_followed() {
    let (port, mut requests) = receiver(Answer::Redirect).await;
    let response = local_sender().post(outgoing(port)).await;
    assert_eq!(response.status, Some(302));
    assert!(!response.is_success());
    let error = response.error.unwrap_or_default();
    assert!(
        error.contains("redirect (302)") && error.contains("not followed"),
        "{error}"
    );
    assert!(requests.try_recv().is_ok());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(requests.try_recv().is_err(), "the redirect was followed");
}

#[tokio::test]
async fn a_slow_receiver_times_out() {
    let (port, _requests) = receiver(Answer::Slow).await;
    let sender = AwcSender::with_options(SenderOptions {
        allow_private: true,
        total_timeout: Duration::from_millis(300),
        ..SenderOptions::default()
    });
    let response = sender.post(outgoing(port)).await;
    assert_eq!(response.status, None);
    assert!(
        response
            .error
            .as_deref()
            .is_some_and(|e| e.contains("timed out")),
        "{response:?}"
    );
    assert!(response.duration >= Duration::from_millis(300));
    assert!(response.duration < Duration::from_secs(5), "{response:?}");
}

#[tokio::test]
async fn an_oversized_answer_is_cut_short_and_the_status_counts() {
    let (port, _requests) = receiver(Answer::Huge).await;
    let response = local_sender().post(outgoing(port)).await;
    assert_eq!(response.status, Some(200), "{response:?}");
    assert!(response.is_success());
    assert!(response.duration < Duration::from_secs(5), "{response:?}");
}

#[tokio::test]
async fn loopback_is_refused_unless_private_is_allowed() {
    let (port, mut requests) = receiver(Answer::Status(200)).await;
    let public_only = AwcSender::new(false);

    let response = public_only.post(outgoing(port)).await;
    assert_eq!(response.status, None);
    assert!(
        response
            .error
            .as_deref()
            .is_some_and(|e| e.contains("loopback")),
        "{response:?}"
    );
    assert!(requests.try_recv().is_err(), "the receiver was reached");

    for refused in [
        format!("http://127.0.0.1:{port}/"),
        "http://localhost/".to_owned(),
        "https://[::1]/".to_owned(),
        "http://[::ffff:10.0.0.1]/".to_owned(),
        "http://169.254.169.254/latest/meta-data".to_owned(),
    ] {
        let error = public_only.check_destination(&url(&refused)).await.err();
        match error {
            Some(error) => {
                assert_eq!(error.field, "url");
                assert!(
                    matches!(error.problem, Problem::Invalid(_)),
                    "{refused}: {error}"
                );
            }
            None => panic!("{refused} was accepted"),
        }
    }
    assert_eq!(
        local_sender()
            .check_destination(&url(&format!("http://127.0.0.1:{port}/")))
            .await,
        Ok(())
    );
    assert_eq!(
        public_only
            .check_destination(&url("https://8.8.8.8/hook"))
            .await,
        Ok(())
    );
}

#[tokio::test]
async fn a_closed_port_is_an_error_text() {
    let port = {
        let listener = ok(TcpListener::bind("127.0.0.1:0").await);
        ok(listener.local_addr()).port()
    };
    let response = local_sender().post(outgoing(port)).await;
    assert_eq!(response.status, None);
    assert!(
        response
            .error
            .as_deref()
            .is_some_and(|e| e.contains("connect")),
        "{response:?}"
    );
}

#[tokio::test]
async fn an_unresolvable_host_is_an_error_text() {
    let sender = AwcSender::new(false);
    let response = sender
        .post(Outgoing {
            url: url("http://no-such-host.invalid/"),
            ..outgoing(1)
        })
        .await;
    assert_eq!(response.status, None);
    assert!(response.error.is_some(), "{response:?}");
    assert!(
        sender
            .check_destination(&url("http://no-such-host.invalid/"))
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sender_serves_many_tasks_on_any_thread() {
    let (port, mut requests) = receiver(Answer::Status(204)).await;
    let sender: Arc<dyn WebhookSender> = Arc::new(local_sender());
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let sender = Arc::clone(&sender);
        tasks.push(tokio::spawn(
            async move { sender.post(outgoing(port)).await },
        ));
    }
    for task in tasks {
        let response = ok(task.await);
        assert_eq!(response.status, Some(204), "{response:?}");
    }
    for _ in 0..8 {
        assert!(requests.recv().await.is_some());
    }
}
