//! The response body type: a whole buffer, or one of the faulty streams.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

static PAD: [u8; 64 * 1024] = [b'x'; 64 * 1024];

pub(crate) enum MockBody {
    /// A complete body (`None` once sent).
    Full(Option<Bytes>),
    /// Sends `data`, waits a moment so it is flushed, then fails: hyper closes the
    /// connection short of the declared Content-Length.
    Truncated {
        data: Option<Bytes>,
        pause: Option<Pin<Box<Sleep>>>,
    },
    /// `prefix`, then `pad` bytes of 'x' in 64 KiB chunks, then `suffix`.
    Padded {
        prefix: Option<Bytes>,
        pad: u64,
        suffix: Option<Bytes>,
    },
}

impl MockBody {
    pub(crate) fn full(b: impl Into<Bytes>) -> MockBody {
        MockBody::Full(Some(b.into()))
    }

    pub(crate) fn empty() -> MockBody {
        MockBody::Full(None)
    }

    pub(crate) fn truncated(data: Bytes) -> MockBody {
        MockBody::Truncated {
            data: Some(data),
            pause: None,
        }
    }

    /// A body of exactly `total` bytes (or prefix+suffix, if that is longer).
    pub(crate) fn padded(prefix: Bytes, suffix: Bytes, total: u64) -> MockBody {
        let fixed = (prefix.len() + suffix.len()) as u64;
        let total = total.max(fixed);
        MockBody::Padded {
            prefix: Some(prefix),
            pad: total - fixed,
            suffix: Some(suffix),
        }
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            MockBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            MockBody::Truncated { data, pause } => {
                if let Some(d) = data.take() {
                    return Poll::Ready(Some(Ok(Frame::data(d))));
                }
                let sleep = pause
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(Duration::from_millis(50))));
                match sleep.as_mut().poll(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(()) => Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "truncated fault",
                    )))),
                }
            }
            MockBody::Padded {
                prefix,
                pad,
                suffix,
                ..
            } => {
                if let Some(p) = prefix.take() {
                    return Poll::Ready(Some(Ok(Frame::data(p))));
                }
                if *pad > 0 {
                    let n = (*pad).min(PAD.len() as u64) as usize;
                    *pad -= n as u64;
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&PAD[..n])))));
                }
                Poll::Ready(suffix.take().map(|s| Ok(Frame::data(s))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            MockBody::Full(b) => b.as_ref().is_none_or(|b| b.is_empty()),
            MockBody::Truncated { .. } => false,
            MockBody::Padded { suffix, .. } => suffix.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            MockBody::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            MockBody::Truncated { .. } => SizeHint::default(),
            MockBody::Padded {
                prefix,
                pad,
                suffix,
                ..
            } => SizeHint::with_exact(
                prefix.as_ref().map_or(0, |b| b.len() as u64)
                    + *pad
                    + suffix.as_ref().map_or(0, |b| b.len() as u64),
            ),
        }
    }
}
