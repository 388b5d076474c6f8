"""twtop's panes: one module per pane; they know the engine's model types, nothing of tui/."""
