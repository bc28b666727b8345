"""Streamlit helpers shared by the pages: server-wide state, the Run form, live
progress, run pickers, presenter mode and error display. The engine (lth_core)
never imports from here."""
