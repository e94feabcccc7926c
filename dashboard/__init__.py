"""The Streamlit dashboard over results/ and the training logs (`make dashboard`).

Page code lives in dashboard/views/; everything it shows is read by
dashboard.loaders and drawn by dashboard.figures, which need no Streamlit.
"""
