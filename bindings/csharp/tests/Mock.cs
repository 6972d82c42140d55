// Test support: the mock server's /_mock/ control endpoints over plain HttpWebRequest (in
// System.dll, so Debian's mono-runtime needs no extra package), and a small JSON reader
// (Debian's Mono has no JSON library without extra packages).

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Text;

namespace Alfaview.Auth.Tests
{
    internal sealed class Mock
    {
        internal Mock(string port)
        {
            Port = int.Parse(port, CultureInfo.InvariantCulture);
            BaseUrl = "http://127.0.0.1:" + Port + "/json/v1/";
        }

        internal int Port { get; }
        internal string BaseUrl { get; }

        internal object Get(string endpoint)
        {
            return Send("GET", endpoint, null);
        }

        internal object Post(string endpoint, string body)
        {
            return Send("POST", endpoint, body);
        }

        internal void Reset()
        {
            Post("reset", "");
        }

        internal void Configure(string patch)
        {
            Post("config", patch);
        }

        internal long Stat(string name)
        {
            return Json.Long(Json.Field(Get("stats"), name));
        }

        internal string Mint(string companyId)
        {
            var body = "{\"companyId\": " + Json.Quote(companyId) + "}";
            return (string)Json.Field(Post("mint", body), "refreshToken");
        }

        internal object Last()
        {
            return Get("last");
        }

        private object Send(string method, string endpoint, string body)
        {
            var request = (HttpWebRequest)WebRequest.Create("http://127.0.0.1:" + Port + "/_mock/" + endpoint);
            request.Method = method;
            request.Proxy = null;
            request.KeepAlive = false;
            request.Timeout = 10000;
            if (body != null)
            {
                byte[] bytes = Encoding.UTF8.GetBytes(body);
                request.ContentType = "application/json";
                request.ContentLength = bytes.Length;
                using (Stream s = request.GetRequestStream())
                {
                    s.Write(bytes, 0, bytes.Length);
                }
            }
            try
            {
                using (var response = (HttpWebResponse)request.GetResponse())
                using (var reader = new StreamReader(response.GetResponseStream(), Encoding.UTF8))
                {
                    return Json.Parse(reader.ReadToEnd());
                }
            }
            catch (WebException e)
            {
                string detail = "";
                if (e.Response != null)
                {
                    using (var reader = new StreamReader(e.Response.GetResponseStream(), Encoding.UTF8))
                    {
                        detail = reader.ReadToEnd();
                    }
                }
                throw new InvalidOperationException("mock " + method + " /_mock/" + endpoint + " failed: " + e.Message + " " + detail);
            }
        }
    }

    /// <summary>Objects are Dictionary&lt;string, object&gt;, arrays List&lt;object&gt;, numbers double.</summary>
    internal static class Json
    {
        internal static object Parse(string text)
        {
            int i = 0;
            object value = ParseValue(text, ref i);
            SkipSpace(text, ref i);
            if (i != text.Length)
            {
                throw new FormatException("JSON: trailing text at " + i);
            }
            return value;
        }

        internal static object Field(object obj, string name)
        {
            var d = obj as Dictionary<string, object>;
            if (d == null)
            {
                throw new InvalidOperationException("JSON: not an object, wanted field " + name);
            }
            object v;
            if (!d.TryGetValue(name, out v))
            {
                throw new InvalidOperationException("JSON: no field " + name);
            }
            return v;
        }

        internal static object Path(object obj, params string[] names)
        {
            foreach (string n in names)
            {
                obj = Field(obj, n);
            }
            return obj;
        }

        internal static long Long(object v)
        {
            return (long)(double)v;
        }

        internal static string Quote(string s)
        {
            var sb = new StringBuilder("\"");
            foreach (char c in s)
            {
                if (c == '"' || c == '\\') sb.Append('\\').Append(c);
                else if (c < 0x20) sb.AppendFormat("\\u{0:x4}", (int)c);
                else sb.Append(c);
            }
            return sb.Append('"').ToString();
        }

        private static void SkipSpace(string t, ref int i)
        {
            while (i < t.Length && char.IsWhiteSpace(t[i])) i++;
        }

        private static object ParseValue(string t, ref int i)
        {
            SkipSpace(t, ref i);
            if (i >= t.Length) throw new FormatException("JSON: unexpected end");
            char c = t[i];
            if (c == '{')
            {
                var d = new Dictionary<string, object>();
                i++;
                SkipSpace(t, ref i);
                if (t[i] == '}') { i++; return d; }
                while (true)
                {
                    SkipSpace(t, ref i);
                    string key = ParseString(t, ref i);
                    SkipSpace(t, ref i);
                    Expect(t, ref i, ':');
                    d[key] = ParseValue(t, ref i);
                    SkipSpace(t, ref i);
                    if (t[i] == ',') { i++; continue; }
                    Expect(t, ref i, '}');
                    return d;
                }
            }
            if (c == '[')
            {
                var l = new List<object>();
                i++;
                SkipSpace(t, ref i);
                if (t[i] == ']') { i++; return l; }
                while (true)
                {
                    l.Add(ParseValue(t, ref i));
                    SkipSpace(t, ref i);
                    if (t[i] == ',') { i++; continue; }
                    Expect(t, ref i, ']');
                    return l;
                }
            }
            if (c == '"') return ParseString(t, ref i);
            if (t.Substring(i).StartsWith("true", StringComparison.Ordinal)) { i += 4; return true; }
            if (t.Substring(i).StartsWith("false", StringComparison.Ordinal)) { i += 5; return false; }
            if (t.Substring(i).StartsWith("null", StringComparison.Ordinal)) { i += 4; return null; }
            int start = i;
            while (i < t.Length && "+-0123456789.eE".IndexOf(t[i]) >= 0) i++;
            if (start == i) throw new FormatException("JSON: unexpected '" + c + "' at " + i);
            return double.Parse(t.Substring(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        private static void Expect(string t, ref int i, char c)
        {
            if (i >= t.Length || t[i] != c) throw new FormatException("JSON: expected '" + c + "' at " + i);
            i++;
        }

        private static string ParseString(string t, ref int i)
        {
            Expect(t, ref i, '"');
            var sb = new StringBuilder();
            while (t[i] != '"')
            {
                char c = t[i++];
                if (c != '\\') { sb.Append(c); continue; }
                char e = t[i++];
                switch (e)
                {
                    case 'n': sb.Append('\n'); break;
                    case 't': sb.Append('\t'); break;
                    case 'r': sb.Append('\r'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'u': sb.Append((char)int.Parse(t.Substring(i, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture)); i += 4; break;
                    default: sb.Append(e); break;
                }
            }
            i++;
            return sb.ToString();
        }
    }
}
