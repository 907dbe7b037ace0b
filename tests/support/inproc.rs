//! The library's `Server` run inside the test, on a runtime of its own,
//! with the test server certificate and CA and a sink of the test's
//! choosing.

use idmefv2::http::{
    server::{Server, Sink},
    tls::ServerTls,
};

use super::Pki;

/// A running in-process receiver; [`stop`](Self::stop) ends it cleanly
/// (dropping it ends it with the runtime).
pub struct InProcess {
    pub runtime: tokio::runtime::Runtime,
    pub port: u16,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl InProcess {
    /// Serves `sink` on a free loopback port.
    pub fn start<S: Sink>(pki: &Pki, sink: S) -> InProcess {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        let tls = ServerTls::from_pem(
            &pki.read("server.pem"),
            &pki.read("server.key"),
            &pki.read("ca.pem"),
        )
        .expect("server TLS");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = Server::new(tls).expect("server");
        let serving = runtime.spawn(server.serve(listener, sink, async {
            let _ = stopped.await;
        }));
        InProcess {
            runtime,
            port,
            stop,
            serving,
        }
    }

    /// Stops accepting, finishes the requests in flight, closes the sink.
    pub fn stop(self) {
        let _ = self.stop.send(());
        self.runtime
            .block_on(self.serving)
            .expect("server task")
            .expect("server stopped cleanly");
    }
}
