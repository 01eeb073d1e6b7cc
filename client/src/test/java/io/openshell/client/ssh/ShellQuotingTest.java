package io.openshell.client.ssh;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ShellQuotingTest {

  @Test
  void emptySafeAndUnsafeWordsAreQuotedAsTheGatewayDoes() {
    assertEquals("''", ShellQuoting.quote(""));
    assertEquals("hello-world/foo.bar_1", ShellQuoting.quote("hello-world/foo.bar_1"));
    assertEquals("'a b'", ShellQuoting.quote("a b"));
    assertEquals("'it'\"'\"'s'", ShellQuoting.quote("it's"));
    assertEquals("'$(id)'", ShellQuoting.quote("$(id)"));
    assertEquals("'x=1'", ShellQuoting.quote("x=1"));
    assertThrows(IllegalArgumentException.class, () -> ShellQuoting.quote("a\0b"));
  }

  @Test
  void aJoinedCommandLineSplitsBackIntoExactlyTheSameWords() throws Exception {
    List<String> words = List.of("printf", "%s\\n", "", "two words", "it's", "$HOME", "`id`", "a\nb", "*", "--", "ä€");
    Path script = Files.createTempFile("quoting", ".sh");
    // The remote side runs the string with a shell, as sshd does with "bash -lc <command>".
    Files.writeString(script, ShellQuoting.join(words), StandardCharsets.UTF_8);
    Process shell = new ProcessBuilder("/bin/sh", script.toString()).start();
    assertTrue(shell.waitFor(10, TimeUnit.SECONDS));
    String out = new String(shell.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(String.join("\n", words.subList(2, words.size())) + "\n", out);
    Files.delete(script);
  }
}
