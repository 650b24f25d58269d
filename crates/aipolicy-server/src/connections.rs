//! Taking connections and serving HTTP/1.1 on each, with a deadline for a request's headers:
//! `axum::serve` sets none, so a client that sent its headers a byte at a time, or nothing at
//! all, held its connection open for as long as it liked, before any limit or token check.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// Serves `app` on every connection `listener` takes until `shutdown` completes; then takes no
/// more, lets each connection finish the request it is answering, and returns once all are
/// closed. A connection that has not sent a request's whole headers within `header_timeout` —
/// its first request's, or the next one's after an answer — is closed without an answer.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    refused(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection closed: {e}");
            }
        });
    }
    // No new connection is taken while the open ones finish.
    drop(listener);
    graceful.shutdown().await;
}

/// Serves `app` as [`serve`] does until `shutdown` completes, then waits for the requests in
/// flight at most `drain` before returning anyway (a stream that never ends does not hold up a
/// shutdown).
pub async fn serve_draining(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    drain: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let (stopping_tx, stopping_rx) = tokio::sync::watch::channel(false);
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: finishing the requests in flight");
        let _ = stopping_tx.send(true);
    };
    let deadline = async move {
        let mut rx = stopping_rx;
        let _ = rx.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(drain).await;
    };
    tokio::select! {
        () = serve(listener, app, header_timeout, signal) => {}
        () = deadline => {
            tracing::warn!("requests still in flight after {} ms; stopping anyway", drain.as_millis());
        }
    };
}

/// A connection that could not be taken. One the peer gave up on is nothing; any other (out of
/// file descriptors, say) is logged, and the next is taken a second later, when some may have
/// closed, instead of spinning.
async fn refused(e: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!("cannot take a connection: {e}");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
