// Explicit, strict UTF-8 in both directions. The platform's ANSI marshalling is never
// used: strings go to native code as NUL-terminated UTF-8 byte[] built here, and come
// back as IntPtr read here.

using System;
using System.Runtime.InteropServices;
using System.Text;

namespace Alfaview.Auth
{
    internal static class Utf8
    {
        // No BOM; throw on unpaired surrogates (encoding) and invalid bytes (decoding).
        private static readonly UTF8Encoding Strict = new UTF8Encoding(false, true);

        /// <summary>
        /// <paramref name="value"/> as NUL-terminated UTF-8, or null for null (an optional
        /// argument). Embedded NUL characters and unpaired surrogates cannot be passed to
        /// the library faithfully: they give an ArgumentException naming the parameter.
        /// Everything else (empty strings, control characters, ...) is the library's to judge.
        /// </summary>
        internal static byte[] Encode(string value, string paramName)
        {
            if (value == null)
            {
                return null;
            }
            if (value.IndexOf('\0') >= 0)
            {
                throw new ArgumentException("must not contain a NUL character", paramName);
            }
            int length;
            try
            {
                length = Strict.GetByteCount(value);
            }
            catch (EncoderFallbackException e)
            {
                throw new ArgumentException("is not valid Unicode (unpaired surrogate): " + e.Message, paramName);
            }
            var bytes = new byte[length + 1];
            Strict.GetBytes(value, 0, value.Length, bytes, 0);
            return bytes;
        }

        /// <summary>Like <see cref="Encode"/> for a required argument: null is rejected.</summary>
        internal static byte[] EncodeRequired(string value, string paramName)
        {
            if (value == null)
            {
                throw new ArgumentNullException(paramName);
            }
            return Encode(value, paramName);
        }

        /// <summary>Overwrites a buffer that held a secret (no-op for null).</summary>
        internal static void Wipe(byte[] bytes)
        {
            if (bytes != null)
            {
                Array.Clear(bytes, 0, bytes.Length);
            }
        }

        /// <summary>
        /// A NUL-terminated UTF-8 string (null for NULL), copied; nothing is freed. For a
        /// string the library allocated (a char** out-parameter) the caller releases it with
        /// av_string_free in a finally block (see Native.cs).
        /// </summary>
        internal static string Decode(IntPtr p)
        {
            if (p == IntPtr.Zero)
            {
                return null;
            }
            int length = 0;
            while (Marshal.ReadByte(p, length) != 0)
            {
                length++;
            }
            var bytes = new byte[length];
            Marshal.Copy(p, bytes, 0, length);
            try
            {
                return Strict.GetString(bytes);
            }
            catch (DecoderFallbackException e)
            {
                throw new InternalException("the native library returned a string that is not valid UTF-8: " + e.Message);
            }
            finally
            {
                Wipe(bytes); // it may have been a token
            }
        }
    }
}
