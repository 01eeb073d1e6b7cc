package io.openshell.gateway.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ShellCommandTest {

  @Test
  void emptyBecomesTwoQuotes() {
    assertEquals("''", ShellCommand.escape(""));
  }

  @Test
  void safeCharactersStayAsTheyAre() {
    assertEquals("/usr/bin/env", ShellCommand.escape("/usr/bin/env"));
    assertEquals("a-b_c.d", ShellCommand.escape("a-b_c.d"));
  }

  @Test
  void unsafeCharactersAreSingleQuoted() {
    assertEquals("'hello world'", ShellCommand.escape("hello world"));
    assertEquals("'$HOME'", ShellCommand.escape("$HOME"));
    assertEquals("'a;b'", ShellCommand.escape("a;b"));
  }

  @Test
  void singleQuotesAreClosedEscapedAndReopened() {
    assertEquals("'it'\"'\"'s'", ShellCommand.escape("it's"));
  }

  @Test
  void envIsSortedByKeyBeforeTheArgsAndWorkdirIsACdPrefix() {
    String command = ShellCommand.assemble(List.of("echo", "a b"), Map.of("ZED", "1", "ALPHA", "x y"), "/sandbox/my dir");
    assertEquals("cd '/sandbox/my dir' && ALPHA='x y' ZED=1 echo 'a b'", command);
  }

  @Test
  void noWorkdirNoEnv() {
    assertEquals("sh -c 'exit 7'", ShellCommand.assemble(List.of("sh", "-c", "exit 7"), Map.of(), ""));
  }
}
