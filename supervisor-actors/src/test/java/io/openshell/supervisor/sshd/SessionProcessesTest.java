package io.openshell.supervisor.sshd;

import static org.junit.jupiter.api.Assertions.*;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class SessionProcessesTest {
  @Test
  void sessionIsTheSixthStatFieldEvenWhenTheNameHasSpacesAndParentheses() {
    assertEquals(OptionalLong.of(4242), SessionProcesses.parseSession("1234 (sleep) S 1 4242 4242 0 -1 4194304"));
    assertEquals(OptionalLong.of(77), SessionProcesses.parseSession("99 (my (odd) name) R 5 6 77 0 -1"));
  }

  @Test
  void garbageHasNoSession() {
    assertEquals(OptionalLong.empty(), SessionProcesses.parseSession("no parenthesis"));
    assertEquals(OptionalLong.empty(), SessionProcesses.parseSession("1 (x) S 1"));
    assertEquals(OptionalLong.empty(), SessionProcesses.parseSession("1 (x) S 1 2 abc"));
  }

  @Test
  void thisProcessIsFoundInItsOwnSession() {
    long self = ProcessHandle.current().pid();
    OptionalLong session = SessionProcesses.sessionOf(self);
    assertTrue(session.isPresent());
    assertTrue(SessionProcesses.inSession(session.getAsLong()).contains(self));
  }
}
