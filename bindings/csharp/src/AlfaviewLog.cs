using System;
using System.Threading;

namespace Alfaview.Auth
{
    /// <summary>How important a log message is (the C ABI's 1..5).</summary>
    public enum AlfaviewLogLevel
    {
        /// <summary>1</summary>
        Error = 1,
        /// <summary>2</summary>
        Warn = 2,
        /// <summary>3</summary>
        Info = 3,
        /// <summary>4</summary>
        Debug = 4,
        /// <summary>5</summary>
        Trace = 5,
    }

    /// <summary>One log message.</summary>
    public sealed class AlfaviewLogEventArgs : EventArgs
    {
        internal AlfaviewLogEventArgs(AlfaviewLogLevel level, string message, Exception exception)
        {
            Level = level;
            Message = message;
            Exception = exception;
        }

        /// <summary>How important it is.</summary>
        public AlfaviewLogLevel Level { get; }

        /// <summary>The text (the library never puts a secret in it).</summary>
        public string Message { get; }

        /// <summary>
        /// The exception application code threw, for messages the binding reports about one
        /// (a RefreshTokenRotated handler, an <see cref="IPairStore"/> method); null for the
        /// library's messages.
        /// </summary>
        public Exception Exception { get; }
    }

    /// <summary>
    /// The library's log. Subscribing to <see cref="Message"/> installs the native log
    /// callback (av_set_log_callback); removing the last handler turns it off again.
    /// </summary>
    public static class AlfaviewLog
    {
        private static readonly object Gate = new object();

        // The one delegate handed to native code. It lives in a static field for the life of
        // the process, so the native side can never call a collected delegate, even if a log
        // message is being delivered on another thread while the callback is switched off.
        private static readonly NativeMethods.LogCallback NativeCallback = OnNativeMessage;

        private static EventHandler<AlfaviewLogEventArgs> handlers;
        private static volatile AlfaviewLogLevel maxLevel = AlfaviewLogLevel.Info;

        /// <summary>
        /// Raised for each log message up to <see cref="MaxLevel"/>, on whichever thread
        /// logs (handlers must be thread-safe). Exceptions thrown by handlers are caught
        /// and dropped. The sender is null.
        /// </summary>
        public static event EventHandler<AlfaviewLogEventArgs> Message
        {
            add
            {
                lock (Gate)
                {
                    bool wasEmpty = handlers == null;
                    handlers += value;
                    if (wasEmpty && handlers != null)
                    {
                        Native.SetLogCallback(NativeCallback, (int)maxLevel);
                    }
                }
            }
            remove
            {
                lock (Gate)
                {
                    handlers -= value;
                    if (handlers == null)
                    {
                        Native.SetLogCallback(null, 0);
                    }
                }
            }
        }

        /// <summary>The most detailed level delivered (default Info).</summary>
        public static AlfaviewLogLevel MaxLevel
        {
            get { return maxLevel; }
            set
            {
                if (value < AlfaviewLogLevel.Error || value > AlfaviewLogLevel.Trace)
                {
                    throw new ArgumentOutOfRangeException("value", value, "must be Error .. Trace");
                }
                lock (Gate)
                {
                    maxLevel = value;
                    if (handlers != null)
                    {
                        Native.SetLogCallback(NativeCallback, (int)maxLevel);
                    }
                }
            }
        }

        private static void OnNativeMessage(IntPtr userData, int level, IntPtr message)
        {
            // Nothing may escape into native code.
            try
            {
                Raise((AlfaviewLogLevel)level, Utf8.Decode(message) ?? "", null);
            }
            catch
            {
            }
        }

        /// <summary>Reports an exception an application event handler threw (it cannot go to native code).</summary>
        internal static void ReportHandlerException(string eventName, Exception e)
        {
            try
            {
                Raise(AlfaviewLogLevel.Error,
                      "a " + eventName + " event handler threw " + e.GetType().FullName + ": " + e.Message, e);
            }
            catch
            {
            }
        }

        /// <summary>
        /// Reports an exception an application's <see cref="IPairStore"/> threw inside a
        /// store callback (it cannot go to native code; the library gets AV_ERR_STORAGE).
        /// </summary>
        internal static void ReportStoreException(string member, Exception e)
        {
            try
            {
                Raise(AlfaviewLogLevel.Error,
                      "the application's token store (" + member + ") threw " + e.GetType().FullName + ": " + e.Message, e);
            }
            catch
            {
            }
        }

        /// <summary>Reports a problem the binding found in a store callback (no exception involved).</summary>
        internal static void ReportStoreProblem(string text)
        {
            try
            {
                Raise(AlfaviewLogLevel.Error, text, null);
            }
            catch
            {
            }
        }

        private static void Raise(AlfaviewLogLevel level, string text, Exception exception)
        {
            EventHandler<AlfaviewLogEventArgs> current = Volatile.Read(ref handlers);
            if (current == null || level > MaxLevel)
            {
                return;
            }
            var args = new AlfaviewLogEventArgs(level, text, exception);
            foreach (Delegate d in current.GetInvocationList())
            {
                try
                {
                    ((EventHandler<AlfaviewLogEventArgs>)d)(null, args);
                }
                catch
                {
                    // A log handler that throws has nowhere to report to.
                }
            }
        }
    }
}
