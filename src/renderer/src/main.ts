import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { connectStudio } from './lib/api';

const app = mount(App, { target: document.getElementById('app')!, props: { client: connectStudio() } });
export default app;
