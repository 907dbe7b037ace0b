//! A server run inside the test, on a runtime of its own: the test gives
//! the serving future (the library's `Server::serve` with a sink of its
//! choosing), this gives it a loopback listener and a stop signal.

use std::{
    future::Future,
    io,
    pin::Pin,
    task::{Context, Poll},
};

use tokio::sync::oneshot;

/// A running in-process server; [`stop`](Self::stop) ends it cleanly
/// (dropping it ends it with the runtime).
pub struct InProcess {
    /// The runtime it runs on, for the test's own async work.
    pub runtime: tokio::runtime::Runtime,
    /// Its loopback port.
    pub port: u16,
    stop: oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<io::Result<()>>,
}

/// Completes when the test calls [`InProcess::stop`] (or drops it): the
/// shutdown signal to hand to the server.
pub struct Stop(oneshot::Receiver<()>);

impl Future for Stop {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}

impl InProcess {
    /// Binds a free loopback port and runs `serve(listener, stop)` on a
    /// two-thread runtime.
    pub fn start<F, S>(serve: F) -> InProcess
    where
        F: FnOnce(tokio::net::TcpListener, Stop) -> S,
        S: Future<Output = io::Result<()>> + Send + 'static,
    {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        let (stop, stopped) = oneshot::channel();
        let serving = runtime.spawn(serve(listener, Stop(stopped)));
        InProcess {
            runtime,
            port,
            stop,
            serving,
        }
    }

    /// Stops accepting, finishes the requests in flight, and waits for the
    /// serving future to end (which closes the sink).
    pub fn stop(self) {
        let _ = self.stop.send(());
        self.runtime
            .block_on(self.serving)
            .expect("server task")
            .expect("server stopped cleanly");
    }
}
