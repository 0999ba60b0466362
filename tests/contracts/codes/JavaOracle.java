// Answers questions about Java's own text rules, one per input line, for test_against_java.py.
// Input lines: "<mode> <base64 utf-8> <base64 utf-8>"; modes: R (Pattern.matches, or E if the
// pattern does not compile), U (URLEncoder.encode UTF-8), P (regionMatches ignoreCase prefix),
// C (Character.toUpperCase/toLowerCase/isWhitespace of code unit <arg1 as decimal>).
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

public class JavaOracle {
  static String d(String s) {
    return new String(Base64.getDecoder().decode(s), StandardCharsets.UTF_8);
  }

  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out = new PrintStream(System.out, false, "UTF-8");
    String line;
    while ((line = in.readLine()) != null) {
      String[] f = line.split(" ", -1);
      String r;
      try {
        switch (f[0]) {
          case "R": r = Pattern.compile(d(f[1])).matcher(d(f[2])).matches() ? "1" : "0"; break;
          case "U": r = java.net.URLEncoder.encode(d(f[1]), "UTF-8"); break;
          case "P": {
            String t = d(f[1]), p = d(f[2]);
            r = t.regionMatches(true, 0, p, 0, p.length()) ? "1" : "0";
            break;
          }
          case "C": {
            char c = (char) Integer.parseInt(f[1]);
            r = (int) Character.toUpperCase(c) + " " + (int) Character.toLowerCase(c) + " "
                + (Character.isWhitespace(c) ? 1 : 0);
            break;
          }
          default: r = "?";
        }
      } catch (PatternSyntaxException e) {
        r = "E";
      }
      out.println(r);
    }
    out.flush();
  }
}
