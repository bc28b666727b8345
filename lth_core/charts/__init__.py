"""Pure Plotly figure builders and the words that go with them (no Streamlit)."""
